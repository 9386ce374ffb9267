import Foundation
import Hummingbird
import HummingbirdTLS
import IconCore
import IconTestSupport
import NIOCore
import NIOSSL
import Testing
@testable import IconDevice

@Suite("fetch-archive over HTTPS with mutual TLS")
struct ArchiveFetcherTests {
    /// Serves the files of `root` by name over HTTPS with client certificates required.
    static func withArchiveServer<T: Sendable>(root: String, pki: TestPKI, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            guard let data = FileManager.default.contents(atPath: "\(root)/\(name)") else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: try (NIOSSLCertificate.fromPEMFile(pki.server.certPath) + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.server.keyPath, format: .pem)),
            trustRoots: .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath)))
        tls.minimumTLSVersion = .tlsv12
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            defer { group.cancelAll() }
            return try await body(port)
        }
    }

    static func tlsFiles(_ pki: TestPKI, dir: TemporaryDirectory) throws -> ClientTLSFiles {
        let chain = dir.join("client-chain.pem")
        try (String(contentsOfFile: pki.device.certPath, encoding: .utf8) + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8))
            .write(toFile: chain, atomically: true, encoding: .utf8)
        return ClientTLSFiles(caCertPath: pki.root.certPath, clientCertPath: chain, clientKeyPath: pki.device.keyPath)
    }

    @Test func streamsPlainAndGzipArchivesAndRefusesEscapesInBoth() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let served = dir.join("served")
            try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
            let payload = String(repeating: "0123456789abcdef", count: 40_000)  // 640 KB: many chunks
            let good: [(String, String, String)] = [("dir", "conf", ""), ("file", "conf/app.conf", "key=value\n"), ("file", "blob", payload), ("symlink", "current", "conf")]
            try ArchiveMaker.make("\(served)/good.tar", good)
            try ArchiveMaker.make("\(served)/good.tar.gz", compression: "gz", good)
            try ArchiveMaker.make("\(served)/evil.tar", [("file", "ok", "fine"), ("file", "../../escape", "x")])
            try ArchiveMaker.make("\(served)/evil.tgz", compression: "gz", [("file", "ok", "fine"), ("symlink", "up", "../.."), ("file", "up/escape", "x")])
            try Data([0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7]).write(to: URL(fileURLWithPath: "\(served)/broken.tgz"))
            let tls = try Self.tlsFiles(pki, dir: dir)

            try await Self.withArchiveServer(root: served, pki: pki) { port in
                for name in ["good.tar", "good.tar.gz"] {
                    let dest = dir.join("out-\(name)")
                    let summary = try await ArchiveFetcher(url: "https://localhost:\(port)/\(name)", destination: dest, tls: tls).run()
                    #expect(summary.files == 2 && summary.directories == 1 && summary.symlinks == 1, "\(name)")
                    #expect(try String(contentsOfFile: "\(dest)/current/app.conf", encoding: .utf8) == "key=value\n")
                    #expect(try String(contentsOfFile: "\(dest)/blob", encoding: .utf8) == payload)
                }
                for name in ["evil.tar", "evil.tgz"] {
                    let dest = dir.join("a/b/out-\(name)")
                    let error = await #expect(throws: IconError.self, "\(name)") {
                        _ = try await ArchiveFetcher(url: "https://localhost:\(port)/\(name)", destination: dest, tls: tls).run()
                    }
                    #expect(error?.code == .unsafeArchiveEntry, "\(name): \(String(describing: error))")
                }
                #expect(!FileManager.default.fileExists(atPath: dir.join("escape")))
                #expect(!FileManager.default.fileExists(atPath: dir.join("a/escape")))

                let broken = await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/broken.tgz", destination: dir.join("out-broken"), tls: tls).run()
                }
                #expect(broken?.code == .malformed)
                let missing = await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/missing.tar", destination: dir.join("out-missing"), tls: tls).run()
                }
                #expect(missing?.code == .notFound)
                // Without a client certificate the server refuses the handshake.
                let anonymous = ClientTLSFiles(caCertPath: pki.root.certPath, clientCertPath: nil, clientKeyPath: nil)
                await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/good.tar", destination: dir.join("out-anon"), tls: anonymous).run()
                }
            }
        }
    }

    @Test func aClientCertificateWithoutAKeyIsAFlagError() {
        let files = ClientTLSFiles(caCertPath: nil, clientCertPath: "/x.pem", clientKeyPath: nil)
        let error = #expect(throws: IconError.self) { _ = try files.configuration() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("--https-client-key") == true)
    }
}
