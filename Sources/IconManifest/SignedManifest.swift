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
    static let thresholdPrefix = "too few signatures"
    static let revokedPrefix = "revoked"

    /// The most entries a wrapper's `signatures` list may hold: each costs a chain search.
    public static let maxSignatures = 8

    /// The wrapper as JSON fields. `signatures` (absent in the original's manifests) lists
    /// every signature of a manifest signed by several signers, the first also in `cert`,
    /// `other_certs` and `sig`.
    struct Wrapper: Decodable {
        var cert: String
        var other_certs: [String]?
        var sig: String
        var inner: String
        var signatures: [Entry]?
        /// Revocation lists (PEM) of the CAs in the signers' chains: not signed by the manifest's
        /// signers but by those CAs, so anyone may carry them; machines keep the newest.
        var crls: [String]?

        /// One signature: the signer's certificate, its chain certificates and the signature.
        struct Entry: Decodable, Equatable {
            var cert: String
            var other_certs: [String]?
            var sig: String
        }

        /// The top-level signature as an entry.
        var first: Entry { Entry(cert: cert, other_certs: other_certs, sig: sig) }

        /// Every signature, the top-level one first, each once.
        var entries: [Entry] {
            var all = [first]
            for entry in signatures ?? [] where !all.contains(entry) { all.append(entry) }
            return all
        }
    }

    /// A signature to make: the key and the PEMs that go beside it.
    public struct Signing: Sendable {
        public var key: SigningKey
        public var certificate: String
        public var otherCertificates: [String]

        public init(key: SigningKey, certificate: String, otherCertificates: [String]) {
            self.key = key
            self.certificate = certificate
            self.otherCertificates = otherCertificates
        }
    }

    /// Signs `inner` with every signer: one signer writes the original's wrapper exactly;
    /// several add the `signatures` list (the first signer also in `cert` and `sig`, so the
    /// original's fetcher still takes it).
    ///
    /// - Throws: `IconError.Code.internal` when signing fails.
    public static func sign(inner: String, signers: [Signing], crls: [String] = []) throws -> Data {
        precondition(!signers.isEmpty, "a manifest needs a signer")
        let entries = try signers.map { signer in
            Wrapper.Entry(
                cert: signer.certificate, other_certs: signer.otherCertificates,
                sig: try signer.key.sign(Data(inner.utf8)).hexString)
        }
        return wrap(entries: entries, inner: inner, crls: crls)
    }

    /// Adds a signature to a signed manifest: the wrapper keeps its first signature at the top
    /// and lists every one in `signatures`.
    ///
    /// - Throws: `.malformed` when `data` is not a signed manifest or already has
    ///   ``maxSignatures``; `.invalidArgument` when `certificate` already signed it.
    public static func addSignature(to data: Data, _ signer: Signing, source: String) throws -> Data {
        let wrapper: Wrapper
        do {
            wrapper = try JSONDecoder().decode(Wrapper.self, from: data)
        } catch {
            throw IconError(.malformed, "\(source) is not a signed manifest: \(DecodingProblem.describe(error))", cause: error)
        }
        var entries = wrapper.entries
        guard entries.count < maxSignatures else {
            throw IconError(.malformed, "\(source) already has \(entries.count) signatures, the most a manifest may carry")
        }
        let new = try PEMFile.certificates(fromPEM: signer.certificate, source: "the new signer's certificate")[0]
        for entry in entries {
            if let existing = try? PEMFile.certificates(fromPEM: entry.cert, source: source).first, existing == new {
                throw IconError(.invalidArgument, "\(source) is already signed by \(new.subject)")
            }
        }
        entries.append(
            Wrapper.Entry(
                cert: signer.certificate, other_certs: signer.otherCertificates,
                sig: try signer.key.sign(Data(wrapper.inner.utf8)).hexString))
        return wrap(entries: entries, inner: wrapper.inner, crls: wrapper.crls ?? [])
    }

    /// How many signatures the wrapper carries (1 for the original's).
    public static func signatureCount(_ data: Data) -> Int? {
        (try? JSONDecoder().decode(Wrapper.self, from: data))?.entries.count
    }

    /// The wrapper of `entries` over `inner`: the original's for one entry; with more, the
    /// `signatures` list after `sig`, all as Python's `json.dumps(sort_keys=True, indent=4)`.
    static func wrap(entries: [Wrapper.Entry], inner: String, crls: [String] = []) -> Data {
        let first = entries[0]
        let plain = wrap(
            certificate: first.cert, otherCertificates: first.other_certs ?? [], signature: first.sig, inner: inner, crls: crls)
        guard entries.count > 1 else { return plain }
        var text = String(decoding: plain, as: UTF8.self)
        // The original's text ends with `"sig": "..."\n}\n`; the list goes after it.
        text.removeLast(3)
        text += ",\n    \"signatures\": [\n"
        text += entries.map { entry in
            var out = "        {\n"
            out += "            \"cert\": \(PythonJSON.quote(entry.cert)),\n"
            let others = entry.other_certs ?? []
            if others.isEmpty {
                out += "            \"other_certs\": [],\n"
            } else {
                out += "            \"other_certs\": [\n"
                out += others.map { "                " + PythonJSON.quote($0) }.joined(separator: ",\n")
                out += "\n            ],\n"
            }
            out += "            \"sig\": \(PythonJSON.quote(entry.sig))\n"
            out += "        }"
            return out
        }.joined(separator: ",\n")
        text += "\n    ]\n}\n"
        return Data(text.utf8)
    }

    /// Signs `inner` and wraps it with the certificates.
    ///
    /// - Parameters:
    ///   - inner: the manifest text (``Manifest/encodedText()``).
    ///   - certificate: PEM of the signer's certificate, matching `key`.
    ///   - otherCertificates: PEMs of chain certificates (intermediates) for verifiers.
    /// - Throws: `IconError.Code.internal` when signing fails.
    public static func sign(inner: String, key: SigningKey, certificate: String, otherCertificates: [String]) throws -> Data {
        try sign(inner: inner, signers: [Signing(key: key, certificate: certificate, otherCertificates: otherCertificates)])
    }

    /// The wrapper text exactly as the original writes it: Python's
    /// `json.dumps(wrapper, sort_keys=True, indent=4)` and a final newline.
    static func wrap(
        certificate: String, otherCertificates: [String], signature: String, inner: String, crls: [String] = []
    ) -> Data {
        var out = "{\n"
        out += "    \"cert\": \(PythonJSON.quote(certificate)),\n"
        if !crls.isEmpty {
            out += "    \"crls\": [\n"
            out += crls.map { "        " + PythonJSON.quote($0) }.joined(separator: ",\n")
            out += "\n    ],\n"
        }
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
    public static func verify(
        _ data: Data, verifier: ChainVerifier, now: Date, threshold: Int = 1
    ) async -> ManifestVerdict {
        var revocations = Revocations.none
        return await verify(data, verifier: verifier, now: now, threshold: threshold, revocations: &revocations)
    }

    /// ``verify(_:verifier:now:threshold:)`` with revocation: the lists the wrapper carries
    /// (`crls`) that a CA of a verified chain signed join `revocations` when newer, and a
    /// signature whose signer or intermediate the lists revoke does not count. `revocations`
    /// comes back with the lists taken, also when the manifest is refused.
    public static func verify(
        _ data: Data, verifier: ChainVerifier, now: Date, threshold: Int = 1, revocations: inout Revocations
    ) async -> ManifestVerdict {
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
        // Endless data: a list longer than any publisher writes is refused before a signature
        // is checked, whatever the threshold (each check costs a chain search).
        let listed = wrapper.signatures?.count ?? 0
        guard listed <= maxSignatures else {
            return .rejected(reason: "\(malformedPrefix): too many signatures: \(listed), at most \(maxSignatures)")
        }
        let carried: [RevocationList]
        switch carriedLists(wrapper) {
        case .success(let lists): carried = lists
        case .failure(let rejection): return .rejected(reason: rejection.reason)
        }
        let leaf: Certificate
        if threshold <= 1 {
            // The original's check: the top-level signature alone.
            switch await check(
                wrapper.first, inner: wrapper.inner, verifier: verifier, now: now, carried: carried, revocations: &revocations)
            {
            case .success(let signer): leaf = signer
            case .failure(let rejection): return .rejected(reason: rejection.reason)
            }
        } else {
            switch await checkThreshold(
                wrapper, threshold: threshold, verifier: verifier, now: now, carried: carried, revocations: &revocations)
            {
            case .success(let signer): leaf = signer
            case .failure(let rejection): return .rejected(reason: rejection.reason)
            }
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

    /// Why one signature does not count: a verdict reason.
    struct Rejection: Error {
        var reason: String
    }

    /// Checks one signature: its certificates (counted first), the chain to a root for manifest
    /// signing, then the signature over `inner`.
    static func check(
        _ entry: Wrapper.Entry, inner: String, verifier: ChainVerifier, now: Date, carried: [RevocationList] = [],
        revocations: inout Revocations
    ) async -> Result<Certificate, Rejection> {
        let leaf: Certificate
        let intermediates: [Certificate]
        switch certificates(of: entry) {
        case .success(let found): (leaf, intermediates) = found
        case .failure(let problem): return .failure(Rejection(reason: "\(malformedPrefix): \(problem.phrase)"))
        }
        let chain: [Certificate]
        switch await verifier.verify(leaf: leaf, intermediates: intermediates, purpose: .manifestSigning, now: now) {
        case .untrusted(let reason): return .failure(Rejection(reason: "\(untrustedPrefix): \(reason)"))
        case .trusted(let path): chain = path
        }
        revocations.take(carried, chain: chain)
        if let (certificate, list) = revocations.revoked(in: chain) {
            let role = certificate == leaf ? "signer" : "intermediate"
            return .failure(
                Rejection(
                    reason: "\(revokedPrefix): the \(role) \(certificate.subject) is revoked by CRL number \(list.number) "
                        + "of \(list.issuer)"))
        }
        guard let signature = [UInt8](hexString: entry.sig), !signature.isEmpty else {
            return .failure(Rejection(reason: "the manifest's sig is not hexadecimal"))
        }
        guard SignatureCheck.isValid(signature, over: Data(inner.utf8), publicKey: leaf.publicKey) else {
            return .failure(Rejection(reason: "bad signature: the manifest's inner text was not signed by \(leaf.subject)"))
        }
        return .success(leaf)
    }

    /// Counts the valid signatures of distinct signers: a certificate, or a key, that signed
    /// twice counts once. `threshold` of them must hold.
    ///
    /// - Returns: the first valid signer's certificate.
    static func checkThreshold(
        _ wrapper: Wrapper, threshold: Int, verifier: ChainVerifier, now: Date, carried: [RevocationList],
        revocations: inout Revocations
    ) async -> Result<Certificate, Rejection> {
        let entries = wrapper.entries
        var signers: [Certificate] = []
        var keys: [Certificate.PublicKey] = []
        var problems: [String] = []
        for (index, entry) in entries.enumerated() {
            let name = index == 0 ? "sig" : "signatures[\(wrapper.signatures?.firstIndex(of: entry) ?? index)]"
            switch await check(
                entry, inner: wrapper.inner, verifier: verifier, now: now, carried: carried, revocations: &revocations)
            {
            case .success(let leaf):
                if signers.contains(leaf) || keys.contains(leaf.publicKey) {
                    problems.append("\(name): \(leaf.subject) signed already")
                } else {
                    signers.append(leaf)
                    keys.append(leaf.publicKey)
                }
            case .failure(let rejection):
                problems.append("\(name): \(rejection.reason)")
            }
        }
        guard signers.count >= threshold, let first = signers.first else {
            return .failure(
                Rejection(
                    reason: "\(thresholdPrefix): \(signers.count) valid signature(s) of distinct signers, "
                        + "--signature-threshold \(threshold) needs \(threshold)"
                        + (problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))")))
        }
        return .success(first)
    }

    /// The revocation lists the wrapper carries, at most ``Revocations/maxLists``; a list that
    /// does not parse makes the wrapper malformed (its signature is checked when it is taken).
    static func carriedLists(_ wrapper: Wrapper) -> Result<[RevocationList], Rejection> {
        let texts = wrapper.crls ?? []
        guard texts.count <= Revocations.maxLists else {
            return .failure(
                Rejection(reason: "\(malformedPrefix): too many revocation lists in crls: \(texts.count), at most \(Revocations.maxLists)"))
        }
        do {
            return .success(
                try texts.enumerated().map { index, text in
                    try RevocationList(pemEncoded: text, source: "the manifest's crls[\(index)]")
                })
        } catch {
            return .failure(Rejection(reason: "\(malformedPrefix): \(error.shortDescription)"))
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
    static func certificates(of wrapper: Wrapper.Entry) -> Result<(Certificate, [Certificate]), Manifest.Problem> {
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
