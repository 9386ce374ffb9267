import Foundation
import Hummingbird
import HummingbirdTLS
import IconCore
@testable import IconMachineTools
@testable import IconTLS
import IconTestSupport
import NIOCore
import NIOSSL
import Testing

@Suite("fetch-archive over HTTPS with mutual TLS")
struct ArchiveFetcherTests {
    /// Generous: a loopback connect succeeds or is refused at once, but a handshake on a machine
    /// busy with the parallel test run was seen to pass the 10 s default.
    static let connectTimeout = TestTiming.duration(.seconds(30))

    /// Serves the files of `root` by name over HTTPS with client certificates required;
    /// `endless-<name>` sends the file and then zeros for ever, `trickle-<name>` one byte of
    /// it every 50 ms.
    static func withArchiveServer<T: Sendable>(root: String, pki: TestPKI, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/:name") { _, context -> Response in
            var name = try context.parameters.require("name")
            let mode = ["endless-", "trickle-"].first { name.hasPrefix($0) }
            if let mode { name.removeFirst(mode.count) }
            guard let data = FileManager.default.contents(atPath: "\(root)/\(name)") else { return Response(status: .notFound) }
            let buffer = ByteBuffer(bytes: data)
            switch mode {
            case "endless-":
                return Response(status: .ok, body: .init { writer in
                    try await writer.write(buffer)
                    let zeros = ByteBuffer(repeating: 0, count: 64 * 1024)
                    while true { try await writer.write(zeros) }
                })
            case "trickle-":
                return Response(status: .ok, body: .init { writer in
                    for offset in 0..<buffer.readableBytes {
                        try await writer.write(buffer.getSlice(at: offset, length: 1)!)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                })
            default:
                return Response(status: .ok, body: .init(byteBuffer: buffer))
            }
        }
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: try (NIOSSLCertificate.fromPEMFile(pki.server.certPath) + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.server.keyPath, format: .pem)),
            trustRoots: .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath)))
        tls.minimumTLSVersion = .tlsv12
        let ports = Loopback.Ports()
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ports.report($0.localAddress?.port ?? 0) })
        return try await ports.serve({ try await app.runService(gracefulShutdownSignals: []) }, body)
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
                    let summary = try await ArchiveFetcher(url: "https://localhost:\(port)/\(name)", destination: dest, tls: tls, connectTimeout: Self.connectTimeout).run()
                    #expect(summary.files == 2 && summary.directories == 1 && summary.symlinks == 1, "\(name)")
                    #expect(try String(contentsOfFile: "\(dest)/current/app.conf", encoding: .utf8) == "key=value\n")
                    #expect(try String(contentsOfFile: "\(dest)/blob", encoding: .utf8) == payload)
                }
                for name in ["evil.tar", "evil.tgz"] {
                    let dest = dir.join("a/b/out-\(name)")
                    let error = await #expect(throws: IconError.self, "\(name)") {
                        _ = try await ArchiveFetcher(url: "https://localhost:\(port)/\(name)", destination: dest, tls: tls, connectTimeout: Self.connectTimeout).run()
                    }
                    #expect(error?.code == .unsafeArchiveEntry, "\(name): \(String(describing: error))")
                }
                #expect(!FileManager.default.fileExists(atPath: dir.join("escape")))
                #expect(!FileManager.default.fileExists(atPath: dir.join("a/escape")))

                let broken = await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/broken.tgz", destination: dir.join("out-broken"), tls: tls, connectTimeout: Self.connectTimeout).run()
                }
                #expect(broken?.code == .malformed)
                let missing = await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/missing.tar", destination: dir.join("out-missing"), tls: tls, connectTimeout: Self.connectTimeout).run()
                }
                #expect(missing?.code == .notFound)
                // Without a client certificate the server refuses the handshake.
                let anonymous = ClientTLSFiles(caCertPath: pki.root.certPath, clientCertPath: nil, clientKeyPath: nil)
                await expectIconError(.tls) {
                    _ = try await ArchiveFetcher(url: "https://localhost:\(port)/good.tar", destination: dir.join("out-anon"), tls: anonymous, connectTimeout: Self.connectTimeout).run()
                }
            }
        }
    }

    @Test("--max-bytes bounds what an archive unpacks to: a gzip bomb and an endless tar stop there")
    func maxBytesStopsBombsAndEndlessArchives() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let served = dir.join("served")
            try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
            // 8 MiB of one character compress to a few KiB.
            try ArchiveMaker.make("\(served)/bomb.tar.gz", compression: "gz", [("file", "zeros", String(repeating: "0", count: 8 << 20))])
            // A tar header announcing an 8 GiB file; the server sends zeros after it for ever.
            try ArchiveMaker.header("\(served)/big.tar", name: "big", size: (8 << 30) - 1)
            let tls = try Self.tlsFiles(pki, dir: dir)
            try await Self.withArchiveServer(root: served, pki: pki) { port in
                for name in ["bomb.tar.gz", "endless-big.tar"] {
                    let url = "https://localhost:\(port)/\(name)"
                    let error = await #expect(throws: IconError.self, "\(name)") {
                        _ = try await ArchiveFetcher(url: url, destination: dir.join("out-\(name)"), tls: tls, maxBytes: 1 << 20, connectTimeout: Self.connectTimeout).run()
                    }
                    #expect(error?.code == .tooLarge, "\(name): \(String(describing: error))")
                    #expect(error?.message == "\(url) unpacks to more than --max-bytes 1048576 bytes (tar headers and contents after decompression); stopped, and what was unpacked before stays")
                }
                // Within the bound the same bomb unpacks.
                let summary = try await ArchiveFetcher(
                    url: "https://localhost:\(port)/bomb.tar.gz", destination: dir.join("out-ok"), tls: tls, maxBytes: 16 << 20,
                    connectTimeout: Self.connectTimeout
                ).run()
                #expect(summary.files == 1)
            }
        }
    }

    @Test("an archive download trickling in is cut after the stall window")
    func aTricklingArchiveIsCut() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let served = dir.join("served")
            try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
            try ArchiveMaker.make("\(served)/good.tar", [("file", "conf", String(repeating: "x", count: 100_000))])
            let tls = try Self.tlsFiles(pki, dir: dir)
            try await Self.withArchiveServer(root: served, pki: pki) { port in
                let url = "https://localhost:\(port)/trickle-good.tar"
                let stall = StallGuard(window: FetchEnvironment.loopbackConnectTimeout / 10)
                let error = await #expect(throws: IconError.self) {
                    _ = try await ArchiveFetcher(url: url, destination: dir.join("out"), tls: tls, stall: stall, connectTimeout: Self.connectTimeout).run()
                }
                #expect(error?.code == .timeout, "\(String(describing: error))")
                #expect(error?.message.hasPrefix("\(url) stalled: ") == true)
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
