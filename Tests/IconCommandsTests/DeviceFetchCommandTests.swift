import ArgumentParser
import Foundation
import IconCore
import IconServer
import IconTestSupport
import Logging
import Testing

@testable import IconCommands

@Suite("icon fetch")
struct DeviceFetchCommandTests {
    @Test func refusesNonHTTPBaseURL() throws {
        let command = try DeviceFetch.parse(["--base-url", "ftp://h/image/demo", "--ca-cert", "c", "--image-dir", "d"])
        let error = try #require(throws: IconError.self) { try command.checkFlags() }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("ftp://h/image/demo"))
    }

    @Test func helpDescribesEveryFlag() {
        let help = DeviceFetch.helpMessage()
        for flag in [
            "--base-url", "--ca-cert", "--image-dir", "--https-ca-cert", "--https-client-cert", "--https-client-key",
            "--max-images", "--timestamp", "--hostname", "--boot-dir",
        ] {
            #expect(help.contains(flag), "\(flag) missing from help")
        }
    }

    @Test func missingClientKeyIsNamed() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let command = try DeviceFetch.parse([
                "--base-url", "https://127.0.0.1:1/image/demo", "--ca-cert", pki.root.certPath,
                "--image-dir", dir.join("images"), "--https-client-cert", pki.device.certPath,
                "--https-client-key", dir.join("missing.key.pem"),
            ])
            do {
                try await command.run()
                Issue.record("fetch should fail")
            } catch let error as IconError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("missing.key.pem"))
            }
            #expect(!FileManager.default.fileExists(atPath: dir.join("images")))
        }
    }

    /// The whole command against IconServer's ImageServer serving the original's demo
    /// directory: host `vm` gets 1459629471 (the only image its rollout admits), and the boot
    /// menu is written.
    @Test func fetchesCompatDemoOverMutualTLS() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let serverChain = dir.join("server-chain.pem")
            let deviceChain = dir.join("device-chain.pem")
            try bundle([pki.server.certPath, pki.intermediate.certPath], into: serverChain)
            try bundle([pki.device.certPath, pki.intermediate.certPath], into: deviceChain)
            let demo = CompatVectors.path("images/demo")
            let configuration = ImageServerConfiguration(
                host: "127.0.0.1", port: 0, imagePath: (demo as NSString).deletingLastPathComponent, imageTypes: ["demo"],
                certificateChainPath: serverChain, privateKeyPath: pki.server.keyPath, clientCAPath: pki.root.certPath,
                watchManifests: false, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let server = try ImageServer(configuration: configuration) { port in
                continuation.yield(port)
                continuation.finish()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                defer { group.cancelAll() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let command = try DeviceFetch.parse([
                    "--base-url", "https://127.0.0.1:\(port)/image/demo", "--ca-cert", CompatVectors.path("pki/root.cert.pem"),
                    "--image-dir", dir.join("boot/iconograph"), "--boot-dir", dir.join("boot"),
                    "--https-ca-cert", pki.root.certPath, "--https-client-cert", deviceChain,
                    "--https-client-key", pki.device.keyPath, "--hostname", "vm", "--running-image-file", dir.join("none"),
                    "--quiet",
                ])
                try await command.run()
            }
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.join("boot/iconograph/current")) == "1459629471.iso")
            let menu = try String(contentsOfFile: dir.join("boot/grub/grub.cfg"), encoding: .utf8)
            #expect(menu.contains("ICON_DEMO_A"))
        }
    }

    func bundle(_ paths: [String], into path: String) throws {
        let text = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
