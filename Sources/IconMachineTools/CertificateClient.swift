import Crypto
import Foundation
import IconCore
import IconPKI
public import IconTLS
public import Logging
import SwiftASN1
import X509

/// Gets this machine its own key and certificate from `icon certserver` (`icon certclient`),
/// the way the original certclient module's startup script did.
///
/// In the system id directory (default `/systemid`), for hostname `H` and tag `T`:
/// - `H.T.key.pem`: a P-384 key (PKCS#8, mode 0600), created when missing and then kept;
/// - `H.T.cert.pem`: the certificate (and CA chain) the server returned, requested when
///   missing (or with `renew`), written atomically;
/// - `H.T.dh.pem`: RFC 7919 DH parameters when `dhBits` is set (see ``DHParameters``);
/// - `T.key.pem`, `T.cert.pem` (and `T.dh.pem`): relative symlinks to the files above, so
///   services can be configured with a fixed path whatever the machine's name.
public struct CertificateClient: Sendable {
    public struct Configuration: Sendable {
        public var serverURL: String
        public var tls: ClientTLSFiles
        public var tag: String
        /// Subject template; `SYSTEMID` is replaced by the hostname.
        public var subject: String
        public var systemIDDirectory: String
        /// The machine's name; nil means the system hostname.
        public var hostname: String?
        public var dhBits: Int?
        /// Request a new certificate even when one is stored.
        public var renew: Bool

        public init(
            serverURL: String, tls: ClientTLSFiles, tag: String, subject: String,
            systemIDDirectory: String = "/systemid", hostname: String? = nil, dhBits: Int? = nil, renew: Bool = false
        ) {
            self.serverURL = serverURL
            self.tls = tls
            self.tag = tag
            self.subject = subject
            self.systemIDDirectory = systemIDDirectory
            self.hostname = hostname
            self.dhBits = dhBits
            self.renew = renew
        }
    }

    /// What a run did.
    public struct Outcome: Sendable, Equatable {
        public var keyPath: String
        public var certPath: String
        public var dhPath: String?
        public var createdKey: Bool
        public var requestedCertificate: Bool
    }

    public let configuration: Configuration
    public let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Makes sure key, certificate, DH parameters and links exist.
    ///
    /// - Throws: `.invalidArgument` for a bad tag, hostname, subject or `--dh-bits`; `.network`
    ///   or `.tls` naming the server URL; `.untrusted` when the server answers with a
    ///   certificate for another key; `.io` naming a file.
    public func run() async throws -> Outcome {
        let host = try configuration.hostname ?? Self.systemHostname()
        try Self.checkName(host, flag: "--hostname")
        try Self.checkName(configuration.tag, flag: "--tag")
        let template = try SubjectTemplate(configuration.subject)
        // A size we cannot write is a flag error before any key is made or request sent.
        let dhPEM = try configuration.dhBits.map { try DHParameters.pem(bits: $0) }
        let dir = configuration.systemIDDirectory
        guard FileManager.default.fileExists(atPath: dir) else {
            throw IconError(.notFound, "--systemid-dir \(dir) does not exist")
        }
        let base = "\(host).\(configuration.tag)"
        let keyPath = "\(dir)/\(base).key.pem"
        let certPath = "\(dir)/\(base).cert.pem"

        var createdKey = false
        if !Self.hasContent(keyPath) {
            let key = P384.Signing.PrivateKey()
            try AtomicFile.write(Data(key.pemRepresentation.utf8), to: keyPath, mode: 0o600)
            createdKey = true
            logger.info("created key", metadata: ["path": "\(keyPath)"])
        }
        let key = try PEMFile.privateKey(atPath: keyPath)

        var requested = false
        if configuration.renew || createdKey || !Self.hasContent(certPath) {
            let csr = try CertificateSigningRequest(
                version: .v1, subject: try template.distinguishedName(systemID: host), privateKey: key,
                attributes: .init(), signatureAlgorithm: Self.signatureAlgorithm(for: key))
            let pem = try await request(csrPEM: try csr.serializeAsPEM().pemString)
            let certificates = try PEMFile.certificates(fromPEM: pem, source: configuration.serverURL)
            guard certificates.first?.publicKey == key.publicKey else {
                throw IconError(.untrusted, "\(configuration.serverURL) returned a certificate for a different key")
            }
            try AtomicFile.write(Data(pem.utf8), to: certPath, mode: 0o644)
            requested = true
            logger.info("stored certificate", metadata: ["path": "\(certPath)", "subject": "\(certificates[0].subject)"])
        }

        var dhPath: String?
        if let dhPEM {
            let path = "\(dir)/\(base).dh.pem"
            if !Self.hasContent(path) {
                try AtomicFile.write(Data(dhPEM.utf8), to: path, mode: 0o644)
            }
            try AtomicFile.symlink("\(base).dh.pem", at: "\(dir)/\(configuration.tag).dh.pem")
            dhPath = path
        }
        // Relative targets keep the links valid wherever the system id drive is mounted.
        try AtomicFile.symlink("\(base).key.pem", at: "\(dir)/\(configuration.tag).key.pem")
        try AtomicFile.symlink("\(base).cert.pem", at: "\(dir)/\(configuration.tag).cert.pem")
        return Outcome(keyPath: keyPath, certPath: certPath, dhPath: dhPath, createdKey: createdKey, requestedCertificate: requested)
    }

    /// POSTs the CSR and returns the PEM answer.
    func request(csrPEM: String) async throws -> String {
        let url = configuration.serverURL
        let client = try FetchClient(files: configuration.tls, connectTimeout: .seconds(10))
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await client.post(
                url, contentType: "application/x-pem-file", body: Array(csrPEM.utf8), limit: 1 << 20, timeout: .seconds(60))
            await client.shutdown()
        } catch var error as IconError {
            await client.shutdown()
            if error.code == .network || error.code == .tls { error.message = "cannot reach certificate server \(error.message)" }
            throw error
        }
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else {
            let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
            throw IconError(.network, "certificate server \(url) answered HTTP \(answer.status): \(reason)")
        }
        return text
    }

    static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        switch PublicKeyKind(key.publicKey) {
        case .p256: .ecdsaWithSHA256
        case .rsa: .sha256WithRSAEncryption
        default: .ecdsaWithSHA384
        }
    }

    /// Refuses a tag, subject or DH size `run()` would refuse, before anything is done: the
    /// check `icon module certclient` makes when it writes the unit.
    ///
    /// - Throws: `.invalidArgument` naming `--tag`, `--subject` or `--dh-bits`.
    public static func check(tag: String, subject: String, dhBits: Int?) throws {
        try checkName(tag, flag: "--tag")
        _ = try SubjectTemplate(subject)
        if let dhBits { _ = try DHParameters.pem(bits: dhBits) }
    }

    /// A file name part: no slashes, no leading dot, not empty.
    static func checkName(_ name: String, flag: String) throws {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("\0") else {
            throw IconError(.invalidArgument, "\(flag) '\(name)' must be a plain name without '/' or a leading '.'")
        }
    }

    static func hasContent(_ path: String) -> Bool {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) > 0
    }

    static func systemHostname() throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else {
            throw IconError(.io, "cannot read the hostname: \(errnoText())")
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
