public import Foundation
import IconCore
public import IconPKI
import X509

/// The signed wrapper the original publishes as `manifest.json`:
/// `{"cert": PEM, "inner": manifest text, "other_certs": [PEM...], "sig": hex}`, where `sig`
/// is the signature (ECDSA or RSA PKCS#1 v1.5, SHA-256) over the UTF-8 bytes of `inner`.
///
/// Signing the exact text rather than a re-encoding means the verifier never has to
/// canonicalise JSON: it checks the bytes it received, then parses them.
public enum SignedManifest {
    // Reason prefixes, so `ManifestVerdict.rejectionCode` can classify reasons.
    static let malformedPrefix = "not a signed manifest"
    static let untrustedPrefix = "untrusted signer"
    static let notManifestPrefix = "signed content is not a manifest"
    static let expiredPrefix = "expired"

    /// The wrapper as JSON fields.
    struct Wrapper: Decodable {
        var cert: String
        var other_certs: [String]?
        var sig: String
        var inner: String
    }

    /// Signs `inner` and wraps it with the certificates.
    ///
    /// - Parameters:
    ///   - inner: the manifest text (``Manifest/encodedText()``).
    ///   - certificate: PEM of the signer's certificate, matching `key`.
    ///   - otherCertificates: PEMs of chain certificates (intermediates) for verifiers.
    /// - Throws: `IconError.Code.internal` when signing fails.
    public static func sign(inner: String, key: SigningKey, certificate: String, otherCertificates: [String]) throws -> Data {
        let signature = try key.sign(Data(inner.utf8))
        return wrap(certificate: certificate, otherCertificates: otherCertificates, signature: signature.hexString, inner: inner)
    }

    /// The wrapper text exactly as the original writes it: Python's
    /// `json.dumps(wrapper, sort_keys=True, indent=4)` and a final newline.
    static func wrap(certificate: String, otherCertificates: [String], signature: String, inner: String) -> Data {
        var out = "{\n"
        out += "    \"cert\": \(PythonJSON.quote(certificate)),\n"
        out += "    \"inner\": \(PythonJSON.quote(inner)),\n"
        if otherCertificates.isEmpty {
            out += "    \"other_certs\": [],\n"
        } else {
            out += "    \"other_certs\": [\n"
            out += otherCertificates.map { "        " + PythonJSON.quote($0) }.joined(separator: ",\n")
            out += "\n    ],\n"
        }
        out += "    \"sig\": \(PythonJSON.quote(signature))\n}\n"
        return Data(out.utf8)
    }

    /// The most certificates a manifest may carry besides its signer's (in `other_certs`, and
    /// after the first in `cert`). A real chain has one or two; checking thousands of
    /// look-alike intermediates costs minutes of CPU, and anyone can send a manifest.
    public static let maxChainCertificates = 8

    /// Checks a signed manifest: the signer chains to a root of `verifier` for manifest
    /// signing at `now` (with `other_certs` as intermediates), the signature over `inner`
    /// holds, and `inner` is a manifest — in that order. The wrapper and `inner` must be
    /// strict JSON without duplicate keys, and carry at most ``maxChainCertificates`` chain
    /// certificates.
    public static func verify(_ data: Data, verifier: ChainVerifier, now: Date) async -> ManifestVerdict {
        let wrapper: Wrapper
        do {
            wrapper = try JSONDecoder().decode(Wrapper.self, from: data)
        } catch {
            if isUnsignedManifest(data) {
                return .rejected(reason: "\(malformedPrefix): \(unsignedReason)")
            }
            return .rejected(
                reason: "\(malformedPrefix) (expected JSON with cert, sig and inner): \(DecodingProblem.describe(error))")
        }
        switch JSONKeyScan.scan(data) {
        case .clean: break
        case .duplicate(let key, let path):
            return .rejected(reason: "\(malformedPrefix): " + JSONKeyScan.describe(key: key, path: path) + JSONKeyScan.ambiguity)
        case .invalid(let reason):
            return .rejected(reason: "\(malformedPrefix): it is not strict JSON: \(reason)")
        }
        let leaf: Certificate
        let intermediates: [Certificate]
        switch certificates(of: wrapper) {
        case .success(let found): (leaf, intermediates) = found
        case .failure(let problem): return .rejected(reason: "\(malformedPrefix): \(problem.phrase)")
        }
        let chain = await verifier.verify(leaf: leaf, intermediates: intermediates, purpose: .manifestSigning, now: now)
        if case .untrusted(let reason) = chain {
            return .rejected(reason: "\(untrustedPrefix): \(reason)")
        }
        guard let signature = [UInt8](hexString: wrapper.sig), !signature.isEmpty else {
            return .rejected(reason: "the manifest's sig is not hexadecimal")
        }
        guard SignatureCheck.isValid(signature, over: Data(wrapper.inner.utf8), publicKey: leaf.publicKey) else {
            return .rejected(reason: "bad signature: the manifest's inner text was not signed by \(leaf.subject)")
        }
        switch Manifest.parse(Data(wrapper.inner.utf8)) {
        case .success(let manifest):
            if let expires = manifest.expires, manifest.isExpired(at: now) {
                return .rejected(reason: expiredReason(expires: expires, now: now))
            }
            return .verified(manifest, signer: leaf)
        case .failure(let problem):
            return .rejected(reason: "\(notManifestPrefix): \(problem.phrase)")
        }
    }

    /// The reason for a manifest past its `expires`: both times, and who can fix it.
    static func expiredReason(expires: Int, now: Date) -> String {
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        return "\(expiredPrefix): the manifest expired at \(timeText(expires)) and it is now "
            + "\(timeText(seconds)); the publisher must sign it again (icon publish or icon rollout), "
            + "or this machine's clock is wrong"
    }

    /// A Unix time for a message: ISO 8601 and the seconds, as the manifest holds them.
    static func timeText(_ seconds: Int) -> String {
        "\(Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)) (\(seconds))"
    }

    /// The signer's certificate and the chain certificates of the wrapper, counted before any
    /// is parsed: at most ``maxChainCertificates`` besides the signer's.
    static func certificates(of wrapper: Wrapper) -> Result<(Certificate, [Certificate]), Manifest.Problem> {
        let others = wrapper.other_certs ?? []
        func tooMany(_ count: Int, in field: String) -> Manifest.Problem {
            Manifest.Problem(phrase: "too many certificates in \(field): \(count), at most \(maxChainCertificates)")
        }
        guard others.count <= maxChainCertificates else { return .failure(tooMany(others.count, in: "other_certs")) }
        // A PEM string may hold several certificates; count them all before parsing any.
        let inCert = pemBlockCount(wrapper.cert)
        let inOthers = others.reduce(0) { $0 + pemBlockCount($1) }
        guard inCert - 1 <= maxChainCertificates else { return .failure(tooMany(inCert - 1, in: "cert (after the signer's)")) }
        guard inOthers <= maxChainCertificates, inCert - 1 + inOthers <= maxChainCertificates else {
            return .failure(tooMany(max(0, inCert - 1) + inOthers, in: "other_certs"))
        }
        do {
            let certificates = try PEMFile.certificates(fromPEM: wrapper.cert, source: "the manifest's cert")
            var intermediates = Array(certificates.dropFirst())
            for (index, pem) in others.enumerated() {
                intermediates += try PEMFile.certificates(fromPEM: pem, source: "the manifest's other_certs[\(index)]")
            }
            return .success((certificates[0], intermediates))
        } catch {
            return .failure(Manifest.Problem(phrase: error.shortDescription))
        }
    }

    /// How many PEM blocks (`-----BEGIN `) `text` holds: at least as many as its certificates.
    static func pemBlockCount(_ text: String) -> Int {
        let marker = Array("-----BEGIN ".utf8)
        var count = 0
        var utf8 = text.utf8[...]
        while let index = utf8.firstRange(of: marker) {
            count += 1
            utf8 = utf8[index.upperBound...]
        }
        return count
    }

    /// The reason given for a bare manifest where a signed one belongs.
    static let unsignedReason = "this is an unsigned manifest (manifest.json.unsigned), without cert, sig and inner"

    /// Whether `data` is a bare inner manifest (what `manifest.json.unsigned` holds) rather
    /// than the signed wrapper: a JSON object with `images` and no `inner` or `sig`.
    public static func isUnsignedManifest(_ data: Data) -> Bool {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        return object["images"] != nil && object["inner"] == nil && object["sig"] == nil
    }
}

extension Error {
    /// One line for a verdict reason: an `IconError`'s message (its cause is a library's
    /// internals), or the first line of anything else.
    var shortDescription: String {
        if let error = self as? IconError { return error.message }
        return String(describing: self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown error"
    }
}
