import Foundation
import Hummingbird
@testable import IconCertServer
import IconCore
@testable import IconMachineTools
import IconPKI
import IconServer
@testable import IconTLS
import IconTestSupport
import Logging
import NIOCore
import Testing
import X509

@Suite("certclient against a real certserver on loopback")
struct CertificateClientTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A running certserver whose CA is the test intermediate; `body` gets the PKI and the port.
    func withCertServer<T: Sendable>(in dir: TemporaryDirectory, _ body: @Sendable (TestPKI, Int) async throws -> T) async throws -> T {
        let pki = try TestPKI(directory: dir.join("pki"))
        let chain = dir.join("server-chain.pem")
        try (String(contentsOfFile: pki.server.certPath, encoding: .utf8) + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8))
            .write(toFile: chain, atomically: true, encoding: .utf8)
        let issuer = try CertIssuer(
            caCertPath: pki.intermediate.certPath, caKeyPath: pki.intermediate.keyPath, chainPath: nil,
            policy: CertPolicy(subjectTemplate: "/C=US/O=Server Side/CN=SYSTEMID"))
        let server = CertServer(
            configuration: .init(host: "127.0.0.1", port: 0, serverCertPath: chain, serverKeyPath: pki.server.keyPath, clientCAPath: pki.root.certPath),
            issuer: issuer, issuanceLog: IssuanceLog(path: dir.join("issued.jsonl")), logger: Self.quiet)
        let ports = Loopback.Ports()
        let app = try server.makeApplication { ports.report($0.localAddress?.port ?? 0) }
        return try await ports.serve({ try await app.runService(gracefulShutdownSignals: []) }) { port in try await body(pki, port) }
    }

    /// The requester's client certificate file and key: a provisioner leaf (the client CA is the
    /// issuer's own, so the certserver admits provisioners only) plus the intermediate.
    static func provisioner(_ pki: TestPKI, in dir: String) throws -> (chain: String, key: String) {
        let leaf = try pki.issueLeaf(name: "Imaging Station", file: "provisioner", usages: [.clientAuth, .init(oid: IconOID.provisionerRole)])
        let path = "\(dir)/provisioner-chain.pem"
        try (String(contentsOfFile: leaf.certPath, encoding: .utf8) + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8))
            .write(toFile: path, atomically: true, encoding: .utf8)
        return (path, leaf.keyPath)
    }

    static func configuration(_ pki: TestPKI, port: Int, systemid: String, dir: String, dhBits: Int? = nil, renew: Bool = false) throws -> CertificateClient.Configuration {
        let requester = try provisioner(pki, in: dir)
        return .init(
            serverURL: "https://127.0.0.1:\(port)/",
            tls: ClientTLSFiles(
                caCertPath: pki.root.certPath, clientCertPath: requester.chain, clientKeyPath: requester.key,
                flags: ("--ca-cert", "--client-cert", "--client-key")),
            tag: "www", subject: "/C=US/ST=California/O=Fleet/CN=SYSTEMID", systemIDDirectory: systemid,
            hostname: "c0ffee", dhBits: dhBits, renew: renew)
    }

    @Test func createsKeyCertificateAndTagLinksAndKeepsThemOnTheNextRun() async throws {
        try await withTemporaryDirectory { dir in
            let systemid = dir.join("systemid")
            try FileManager.default.createDirectory(atPath: systemid, withIntermediateDirectories: true)
            let (first, second, pki) = try await withCertServer(in: dir) { pki, port in
                let configuration = try Self.configuration(pki, port: port, systemid: systemid, dir: dir.path, dhBits: 2048)
                let first = try await CertificateClient(configuration: configuration, logger: Self.quiet).run()
                let second = try await CertificateClient(configuration: configuration, logger: Self.quiet).run()
                return (first, second, pki)
            }
            #expect(first.createdKey && first.requestedCertificate)
            #expect(!second.createdKey && !second.requestedCertificate)
            #expect(first.keyPath == "\(systemid)/c0ffee.www.key.pem")
            #expect(first.certPath == "\(systemid)/c0ffee.www.cert.pem")

            let mode = try FileManager.default.attributesOfItem(atPath: first.keyPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let key = try PEMFile.privateKey(atPath: first.keyPath)
            #expect(PublicKeyKind(key.publicKey) == .p384)
            let certificates = try PEMFile.certificates(atPath: first.certPath)
            let leaf = try #require(certificates.first)
            #expect(leaf.publicKey == key.publicKey)
            // The server's template decides the subject; the machine only supplies its id.
            #expect(leaf.subject.description == "CN=c0ffee,O=Server Side,C=US")
            let verdict = await ChainVerifier(roots: [pki.root.certificate]).verify(
                leaf: leaf, intermediates: Array(certificates.dropFirst()), purpose: .clientAuth, now: Date())
            guard case .trusted = verdict else {
                Issue.record("stored certificate is not trusted: \(verdict)")
                return
            }
            for (link, target) in [("www.key.pem", "c0ffee.www.key.pem"), ("www.cert.pem", "c0ffee.www.cert.pem"), ("www.dh.pem", "c0ffee.www.dh.pem")] {
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(systemid)/\(link)") == target)
            }
            let dh = try OpenSSLTool.mustRun(["dhparam", "-in", "\(systemid)/www.dh.pem", "-noout", "-text"])
            #expect(dh.contains("ffdhe2048"))
        }
    }

    @Test func renewKeepsTheKeyAndReplacesTheCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let systemid = dir.join("systemid")
            try FileManager.default.createDirectory(atPath: systemid, withIntermediateDirectories: true)
            let (first, second) = try await withCertServer(in: dir) { pki, port in
                let client = CertificateClient(configuration: try Self.configuration(pki, port: port, systemid: systemid, dir: dir.path), logger: Self.quiet)
                _ = try await client.run()
                let first = try PEMFile.certificates(atPath: "\(systemid)/www.cert.pem")[0]
                let renewing = CertificateClient(configuration: try Self.configuration(pki, port: port, systemid: systemid, dir: dir.path, renew: true), logger: Self.quiet)
                let outcome = try await renewing.run()
                #expect(outcome.requestedCertificate && !outcome.createdKey)
                return (first, try PEMFile.certificates(atPath: "\(systemid)/www.cert.pem")[0])
            }
            #expect(first.publicKey == second.publicKey)
            #expect(first.serialNumber != second.serialNumber)
        }
    }

    @Test func aServerRefusalIsAnErrorWithTheReasonAndStoresNoCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let systemid = dir.join("systemid")
            try FileManager.default.createDirectory(atPath: systemid, withIntermediateDirectories: true)
            let error = try await withCertServer(in: dir) { pki, port in
                var configuration = try Self.configuration(pki, port: port, systemid: systemid, dir: dir.path)
                configuration.hostname = "not-hex"  // the server's policy wants six hex digits
                do {
                    _ = try await CertificateClient(configuration: configuration, logger: Self.quiet).run()
                    return nil as IconError?
                } catch let error as IconError {
                    return error
                }
            }
            #expect(error?.code == .network)
            #expect(error?.message.contains("HTTP 400") == true)
            #expect(error?.message.contains("does not match") == true)
            #expect(!FileManager.default.fileExists(atPath: "\(systemid)/not-hex.www.cert.pem"))
        }
    }

    @Test func refusesNamesThatWouldEscapeTheDirectoryAndUnknownDHSizes() async throws {
        try await withTemporaryDirectory { dir in
            for (host, tag, dhBits) in [("../x", "www", nil), ("c0ffee", "a/b", nil), (".hidden", "www", nil), ("c0ffee", "www", 1234)] as [(String, String, Int?)] {
                let configuration = CertificateClient.Configuration(
                    serverURL: "https://127.0.0.1:1/", tls: ClientTLSFiles(caCertPath: nil, clientCertPath: nil, clientKeyPath: nil),
                    tag: tag, subject: "/CN=SYSTEMID", systemIDDirectory: dir.path, hostname: host, dhBits: dhBits)
                await expectIconError(.invalidArgument, "\(host) \(tag)") {
                    _ = try await CertificateClient(configuration: configuration, logger: Self.quiet).run()
                }
            }
        }
    }

    @Test func dhParametersAreTheRFC7919GroupsOpenSSLRecognises() throws {
        expectIconError(.invalidArgument) { _ = try DHParameters.pem(bits: 1024) }
        try withTemporaryDirectorySync { dir in
            for bits in DHParameters.supportedBits {
                let path = dir.join("dh\(bits).pem")
                try DHParameters.pem(bits: bits).write(toFile: path, atomically: true, encoding: .utf8)
                let text = try OpenSSLTool.mustRun(["dhparam", "-in", path, "-noout", "-text"])
                #expect(text.contains("GROUP: ffdhe\(bits)"))
            }
        }
    }
}

