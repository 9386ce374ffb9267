import ArgumentParser
import Foundation
@testable import IconCommands
import IconCore
import IconServer
import IconTLS
import IconTestSupport
import IconUpdate
import Logging
import Testing
import X509


@Suite("icon fetch")
struct DeviceFetchCommandTests {
    @Test func refusesNonHTTPBaseURL() throws {
        let command = try DeviceFetch.parse(["--base-url", "ftp://h/image/demo", "--ca-cert", "c", "--image-dir", "d"])
        let error = try #require(throws: IconError.self) { try command.checkFlags() }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("ftp://h/image/demo"))
    }

    @Test func boundFlagsParseSuffixesAndRefuseNonsense() throws {
        let base = ["--base-url", "https://h/image/demo", "--ca-cert", "c", "--image-dir", "d"]
        let defaults = try DeviceFetch.parse(base)
        #expect(defaults.bounds.maxImageBytes.bytes == 16 << 30)
        #expect(defaults.bounds.stallTimeout == 60)
        for (text, bytes) in [("17179869184", 17_179_869_184), ("16G", 16 << 30), ("512MiB", 512 << 20), ("64k", 64 << 10), ("2TB", 2 << 40)] {
            #expect(try DeviceFetch.parse(base + ["--max-image-bytes", text]).bounds.maxImageBytes.bytes == bytes, "\(text)")
        }
        for text in ["0", "-1", "1.5G", "G", "16X", "99999999999T"] {
            #expect(throws: (any Error).self, "\(text)") { _ = try DeviceFetch.parse(base + ["--max-image-bytes", text]) }
        }
        let stalled = try DeviceFetch.parse(base + ["--stall-timeout", "0"])
        let error = try #require(throws: IconError.self) { try stalled.checkFlags() }
        #expect(error.code == .invalidArgument)
        #expect(error.message == "--stall-timeout must be at least 1 second, got 0")
        var configuration = FetcherConfiguration(baseURL: "https://h/image/demo", manifestTrustRoots: "c", imageDir: "d")
        try DeviceFetch.parse(base + ["--max-image-bytes", "1M", "--stall-timeout", "5"]).bounds.apply(to: &configuration)
        #expect(configuration.maxImageBytes == 1 << 20)
        #expect(configuration.stall.window == .seconds(5))
        #expect(configuration.stall.minimumBytes == 64 * 1024)
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
            var configuration = ImageServerConfiguration(
                host: "127.0.0.1", port: 0, imagePath: (demo as NSString).deletingLastPathComponent, imageTypes: ["demo"],
                certificateChainPath: serverChain, privateKeyPath: pki.server.keyPath, clientCAPath: pki.root.certPath,
                watchManifests: false, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            // A handshake on a busy machine can take longer than the default 10 s; no test here is about it.
            configuration.connectionLimits.tlsHandshakeTimeout = TestTiming.duration(.seconds(60))
            configuration.connectionLimits.requestHeaderTimeout = TestTiming.duration(.seconds(60))
            let ports = Loopback.Ports()
            let server = try ImageServer(configuration: configuration) { ports.report($0) }
            try await ports.serve({ try await server.run() }) { port in
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

/// The built `icon` run as a real process, the way the README shows a newcomer: exit status
/// and the line on standard error.
enum IconBinary {
    /// `.build/<triple>/debug/icon`, beside the test bundle.
    static var path: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("icon").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return FileManager.default.currentDirectoryPath + "/.build/debug/icon"
    }

    struct Outcome {
        var status: Int32
        var standardError: String
        /// The first line of standard error.
        var errorLine: String { String(standardError.split(separator: "\n").first ?? "") }
        /// The last line of standard error: where `icon: code: message` goes after any log lines.
        var lastLine: String { String(standardError.split(separator: "\n").last ?? "") }
    }

    /// Runs `icon arguments`; a process still running after `timeout` is killed and recorded
    /// as an issue (the commands tested here must end by themselves).
    static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Outcome {
        let executable = path
        try #require(
            FileManager.default.isExecutableFile(atPath: executable),
            "no icon binary at \(executable): build it with `swift build --build-tests`")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ICON_LOG_LEVEL"] = "info"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            process.terminate()
            Issue.record("icon \(arguments.joined(separator: " ")) still ran after \(timeout)")
        }
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, standardError: text)
    }
}

/// `icon agent`'s safe defaults as a newcomer meets them, through the real binary.
@Suite struct AgentCommandProcessTests {
    static func flags(_ pki: TestPKI, dir: TemporaryDirectory, key: String? = nil) -> [String] {
        [
            "agent", "--server", "wss://127.0.0.1:1", "--ca-cert", pki.root.certPath, "--https-ca-cert", pki.root.certPath,
            "--https-client-cert", pki.device.certPath, "--https-client-key", key ?? pki.device.keyPath,
            "--image-type", "robot", "--running-image-file", dir.join("none.json"),
        ]
    }

    @Test func withoutImageDirTheAgentDoesNotStart() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let outcome = try await IconBinary.run(Self.flags(pki, dir: dir) + ["--boot-dir", dir.join("boot")])
            #expect(outcome.status != 0)
            #expect(outcome.errorLine == "icon: usage: Missing expected argument '--image-dir <dir>' (see 'icon agent --help')", "\(outcome.standardError)")
            let noBoot = try await IconBinary.run(Self.flags(pki, dir: dir) + ["--image-dir", dir.join("boot/iconograph")])
            #expect(noBoot.status != 0)
            #expect(noBoot.errorLine == "icon: usage: Missing expected argument '--boot-dir <dir>' (see 'icon agent --help')", "\(noBoot.standardError)")
        }
    }

    @Test func aKeyForAnotherCertificateEndsTheAgentNamingBothFiles() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let outcome = try await IconBinary.run(
                Self.flags(pki, dir: dir, key: pki.signer.keyPath)
                    + ["--image-dir", dir.join("boot/iconograph"), "--boot-dir", dir.join("boot")])
            #expect(outcome.status == 1)
            #expect(outcome.standardError == "icon: bad-key: --https-client-key \(pki.signer.keyPath) does not match --https-client-cert \(pki.device.certPath): the key is not the one the certificate was issued for\n")
            #expect(!FileManager.default.fileExists(atPath: dir.join("boot")))
        }
    }

    @Test func aHostsOwnBootDirectoryEndsTheAgentAtStart() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            try FileManager.default.createDirectory(atPath: dir.join("boot/grub"), withIntermediateDirectories: true)
            let debian = Data(BootUpdateGrubTests.debianMenu.utf8)
            try debian.write(to: URL(fileURLWithPath: dir.join("boot/grub/grub.cfg")))
            let outcome = try await IconBinary.run(
                Self.flags(pki, dir: dir) + ["--image-dir", dir.join("boot/iconograph"), "--boot-dir", dir.join("boot")])
            #expect(outcome.status == 1)
            #expect(outcome.lastLine.hasPrefix("icon: invalid-argument: \(dir.join("boot/grub/grub.cfg")) was not written by Iconograph"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.join("boot/grub/grub.cfg"))) == debian)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.join("boot")) == ["grub"])
        }
    }

    @Test func theReportHostnameFollowsTheCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let system = FetcherConfiguration.systemHostname()
            let robot = try pki.issueLeaf(name: "robot-17", file: "robot", usages: [.clientAuth], names: [.dnsName("robot-17")])
            let mine = try pki.issueLeaf(name: system, file: "mine", usages: [.clientAuth], names: [.dnsName("other"), .dnsName(system)])
            func hostname(_ identity: TestPKI.Identity, _ extra: [String] = []) throws -> String {
                let command = try DeviceAgent.parse(
                    AgentBootSafetyFlagsTests.required.map { $0 == "/c" ? identity.certPath : $0 == "/k" ? identity.keyPath : $0 } + extra)
                let files = ClientTLSFiles(caCertPath: nil, clientCertPath: identity.certPath, clientKeyPath: identity.keyPath)
                return try command.reportHostname(tls: files).hostname
            }
            #expect(try hostname(robot) == (system == "robot-17" ? system : "robot-17"))
            #expect(try hostname(mine) == system)
            #expect(try hostname(robot, ["--hostname", "vm"]) == "vm")
        }
    }
}

/// The --help of the commands the device side owns: placeholders say what a value is, and
/// example lines fit 80 columns without wrapping mid-command.
@Suite struct DeviceCommandHelpTests {
    static let commands: [any ParsableCommand.Type] = [
        DeviceAgent.self, DeviceFetch.self, DeviceImage.self, BootUpdateGrub.self, OperatorCommand.self,
        OperatorReboot.self, OperatorWatch.self, ModuleIconograph.self,
    ]
    static let placeholders: Set<String> = [
        "file", "dir", "url", "n", "seconds", "name", "text", "path", "word", "type", "timestamp", "device",
        "percent", "firmware", "command", "bytes",
    ]

    @Test func placeholdersNameTheKindOfValue() throws {
        let pattern = try Regex(#"--([a-z0-9-]+) <([^>]+)>"#)
        for command in Self.commands {
            let help = command.helpMessage(columns: 400)
            for match in help.matches(of: pattern) {
                let flag = String(match.output[1].substring ?? "")
                let value = String(match.output[2].substring ?? "")
                #expect(Self.placeholders.contains(value), "\(command._commandName) --\(flag) <\(value)>")
            }
        }
    }

    @Test func exampleLinesFitWithoutWrapping() {
        for command in Self.commands {
            let discussion = command.configuration.discussion
            for line in discussion.split(separator: "\n") where line.hasPrefix(" ") {
                #expect(line.count <= 76, "\(command._commandName): \(line)")
            }
            // Rendered at 80 columns an example line stays one line.
            let help = command.helpMessage(columns: 80)
            for line in discussion.split(separator: "\n") where line.hasPrefix("  icon ") || line.hasPrefix("  --module") {
                #expect(help.contains(String(line)), "\(command._commandName) wraps: \(line)")
            }
        }
    }
}
