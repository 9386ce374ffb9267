import Foundation
import IconCore
import IconPKI
import IconTLS
import Logging
import X509

/// The CA certificates client certificates are checked against during the TLS handshake.
///
/// Roots are the self-signed CA certificates of `--ca-cert` and `--operator-ca-cert`; every
/// other CA certificate those files hold, and the CA certificates of the server's own `--cert`
/// chain that lead to one of those roots, only help build chains. Browsers send only the leaf
/// of a certificate imported from PKCS#12, so the server must know the intermediate itself.
/// An intermediate never becomes a trust anchor: a chain must still end at a root.
struct ClientTrust: Sendable {
    /// Roots of device and operator certificates alike.
    let roots: [Certificate]
    /// Roots whose client certificates are operators (from `--operator-ca-cert`).
    let operatorRoots: [Certificate]
    /// CA certificates that may appear between a leaf and a root.
    let intermediates: [Certificate]
    /// Operators' chains from full handshakes, for resumed sessions.
    let operatorChains = VerifiedChains()

    init(roots: [Certificate], operatorRoots: [Certificate], intermediates: [Certificate]) {
        self.roots = roots
        self.operatorRoots = operatorRoots
        self.intermediates = intermediates
    }

    /// Loads `--ca-cert`, `--operator-ca-cert` and the CA part of `--cert`.
    ///
    /// - Throws: `IconError` (`.notFound`, `.io`, `.badKey`) naming the flag and the file;
    ///   `.invalidArgument` when `--ca-cert` or `--operator-ca-cert` holds no self-signed root.
    static func load(_ configuration: ImageServerConfiguration, logger: Logger) throws -> ClientTrust {
        // --cert first: it is the file the server cannot start without in any configuration.
        let chain = try certificates(configuration.certificateChainPath, flag: "--cert")
        let client = try split(try certificates(configuration.clientCAPath, flag: "--client-ca-cert"), flag: "--client-ca-cert", path: configuration.clientCAPath)
        var operatorRoots: [Certificate] = []
        var operatorIntermediates: [Certificate] = []
        if let path = configuration.operatorCAPath {
            (operatorRoots, operatorIntermediates) = try split(try certificates(path, flag: "--operator-ca-cert"), flag: "--operator-ca-cert", path: path)
        }
        let roots = unique(client.roots + operatorRoots)
        if let leaf = chain.first, chain.count == 1, leaf.issuer != leaf.subject {
            logger.notice(
                "--cert \(configuration.certificateChainPath) holds only the server certificate; clients that lack its issuer (\(leaf.issuer)) cannot verify it: append the intermediate (icon pki issue writes <out>.chain.pem)")
        }
        let serverCAs = caCertificates(in: chain, leadingTo: roots)
        return ClientTrust(
            roots: roots, operatorRoots: operatorRoots,
            intermediates: unique(client.intermediates + operatorIntermediates + serverCAs))
    }

    /// Checks the chain a client presented (leaf first) against the roots; a chain that ends at
    /// an operator root is remembered for resumed sessions.
    func verify(presented: [Certificate], now: Date = Date()) async -> ChainVerdict {
        guard let leaf = presented.first else { return .untrusted(reason: "no client certificate") }
        let verdict = await ChainVerifier(roots: roots).verify(
            leaf: leaf, intermediates: Self.unique(Array(presented.dropFirst()) + intermediates), purpose: .clientAuth,
            now: now)
        if case .trusted(let chain) = verdict, let root = chain.last, operatorRoots.contains(root) {
            operatorChains.remember(chain)
        }
        return verdict
    }

    /// Whether `leaf`, with the chain the client presented, chains to an operator root.
    func chainsToOperatorRoot(_ leaf: Certificate, presented: [Certificate], now: Date = Date()) async -> Bool {
        guard !operatorRoots.isEmpty else { return false }
        let verdict = await ChainVerifier(roots: operatorRoots).verify(
            leaf: leaf, intermediates: Self.unique(presented.filter { $0 != leaf } + intermediates), purpose: .clientAuth,
            now: now)
        return verdict.isTrusted
    }

    static func certificates(_ path: String, flag: String) throws -> [Certificate] {
        try ServerTLSFiles.requireReadable(path, flag: flag)
        do {
            return try PEMFile.certificates(atPath: path)
        } catch let error as IconError {
            throw IconError(error.code, "\(flag): \(error.message)", cause: error.cause)
        }
    }

    /// Splits a CA file into self-signed roots and the other CA certificates.
    ///
    /// - Throws: `.invalidArgument` when the file holds no self-signed CA certificate.
    static func split(_ certificates: [Certificate], flag: String, path: String) throws -> (roots: [Certificate], intermediates: [Certificate]) {
        let roots = certificates.filter(isSelfSigned)
        guard !roots.isEmpty else {
            throw IconError(
                .invalidArgument,
                "\(flag) \(path) holds no self-signed root CA certificate; put the root of the CA in it (intermediates may follow)")
        }
        return (roots, certificates.filter { !isSelfSigned($0) && isCA($0) })
    }

    /// The CA certificates after the leaf of the server's chain file whose signatures lead to
    /// one of `roots` (directly or through each other).
    ///
    /// Only a filter for what may help build chains: the handshake still checks every chain in
    /// full (validity, constraints, path length) with `ChainVerifier`.
    static func caCertificates(in chain: [Certificate], leadingTo roots: [Certificate]) -> [Certificate] {
        let cas = chain.dropFirst().filter { isCA($0) && !roots.contains($0) }
        return cas.filter { leadsTo(roots, from: $0, through: cas, depth: 0) }
    }

    static func leadsTo(_ roots: [Certificate], from certificate: Certificate, through cas: [Certificate], depth: Int) -> Bool {
        guard depth < 8 else { return false }
        func signed(by issuer: Certificate) -> Bool {
            issuer.subject == certificate.issuer && issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
        }
        if roots.contains(where: signed) { return true }
        return cas.contains { $0 != certificate && signed(by: $0) && leadsTo(roots, from: $0, through: cas, depth: depth + 1) }
    }

    static func isSelfSigned(_ certificate: Certificate) -> Bool {
        certificate.issuer == certificate.subject && isCA(certificate)
            && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    static func isCA(_ certificate: Certificate) -> Bool {
        guard let constraints = try? certificate.extensions.basicConstraints else { return false }
        if case .isCertificateAuthority = constraints { return true }
        return false
    }

    static func unique(_ certificates: [Certificate]) -> [Certificate] {
        var seen: Set<Certificate> = []
        return certificates.filter { seen.insert($0).inserted }
    }
}
