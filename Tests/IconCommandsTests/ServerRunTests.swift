import ArgumentParser
import Foundation
@testable import IconCommands
import IconCore
import IconServer
import IconTestSupport
import Testing

@Suite struct ServerRunTests {
    @Test func parsesListenAddresses() throws {
        #expect(try ServerRun.parseListen("0.0.0.0:8443") == ("0.0.0.0", 8443))
        #expect(try ServerRun.parseListen("127.0.0.1:0") == ("127.0.0.1", 0))
        #expect(try ServerRun.parseListen("[::]:443") == ("::", 443))
        #expect(try ServerRun.parseListen("localhost:8080") == ("localhost", 8080))
    }

    @Test(arguments: ["8443", ":8443", "host:", "host:99999", "::1:80", "host:port"])
    func refusesBadListenAddresses(value: String) {
        expectIconError(.invalidArgument) { try ServerRun.parseListen(value) }
    }

    @Test func parsesFlags() throws {
        let command = try ServerRun.parse([
            "--image-path", "/srv/images", "--image-type", "a", "--image-type", "b",
            "--cert", "c.pem", "--key", "k.pem", "--client-ca-cert", "ca.pem",
        ])
        #expect(command.listen == "0.0.0.0:8443")
        #expect(command.imageType == ["a", "b"])
        #expect(command.clientCACert == "ca.pem")
        #expect(command.operatorCACert == nil)
        #expect(!command.allowAnyReportHostname)
        let hub = try ServerRun.parse([
            "--image-path", "/srv/images", "--image-type", "a", "--cert", "c.pem", "--key", "k.pem",
            "--client-ca-cert", "ca.pem", "--operator-ca-cert", "ops.pem", "--allow-any-report-hostname",
        ])
        #expect(hub.operatorCACert == "ops.pem")
        #expect(hub.allowAnyReportHostname)
        #expect(throws: (any Error).self) { try ServerRun.parse(["--image-path", "/x"]) }
    }

    @Test func parsesFleetFlags() throws {
        let command = try ServerRun.parse([
            "--image-path", "/srv/images", "--image-type", "a", "--cert", "c.pem", "--key", "k.pem", "--client-ca-cert", "ca.pem",
            "--state-dir", "/var/lib/icon", "--static-path", "docs=/srv/docs", "--static-path", "x=/a=b",
            "--exec-handler", "uptime=/usr/bin/uptime", "--exec-timeout", "5",
        ])
        #expect(command.stateDir == "/var/lib/icon")
        #expect(try ServerRun.parsePairs(command.staticPath, flag: "--static-path") == ["docs": "/srv/docs", "x": "/a=b"])
        #expect(try ServerRun.parsePairs(command.execHandler, flag: "--exec-handler") == ["uptime": "/usr/bin/uptime"])
        #expect(command.execTimeout == 5)
    }

    @Test(arguments: [["docs"], ["=dir"], ["docs="], ["a=/x", "a=/y"]])
    func refusesBadNameValuePairs(values: [String]) {
        let error = #expect(throws: IconError.self) { try ServerRun.parsePairs(values, flag: "--static-path") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("--static-path") == true)
    }

    @Test func relativeExecHandlerPathsAreRefused() async throws {
        let command = try ServerRun.parse([
            "--listen", "127.0.0.1:0", "--image-path", "/", "--image-type", "demo",
            "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem", "--client-ca-cert", "/nonexistent/ca.pem",
            "--exec-handler", "up=bin/uptime",
        ])
        let error = await #expect(throws: IconError.self) { try await command.run() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("--exec-handler up=bin/uptime") == true)
    }

    @Test func missingCertificateFailsBeforeListening() async throws {
        let command = try ServerRun.parse([
            "--listen", "127.0.0.1:0", "--image-path", "/", "--image-type", "demo",
            "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem", "--client-ca-cert", "/nonexistent/ca.pem",
        ])
        let error = try await #require(throws: IconError.self) { try await command.run() }
        #expect(error.code == .notFound)
        #expect(error.message.contains("/nonexistent/c.pem"))
    }
}

@Suite struct ServerRunHelpTests {
    @Test func helpShowsPlaceholdersAndShortExampleLines() throws {
        let help = ServerRun.helpMessage(columns: 100)
        for placeholder in ["--cert <file>", "--image-path <dir>", "--exec-timeout <n>", "--listen <host:port>"] {
            #expect(help.contains(placeholder), "\(placeholder)")
        }
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let example = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "Example:" })
        let exampleLines = lines[(example + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(exampleLines.count >= 4)
        for line in exampleLines {
            #expect(line.count <= 76, "\(line)")
        }
    }
}

/// What a user sees from the built `icon server` for a CA file without a root.
@Suite struct ServerRunBinaryTests {
    /// `.build/debug/icon` of this package, built by `swift build --build-tests`.
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/icon").path

    /// Runs the built `icon` with `arguments` until it exits; its exit status and stderr.
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(.requiresIconBinary, .tags(.iconProcess))
    func aCAFileWithoutARootFailsWithOneLine() throws {
        let directory = try TemporaryDirectory(prefix: "icon-server-run")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.join("pki"))
        try FileManager.default.createDirectory(atPath: directory.join("images/demo"), withIntermediateDirectories: true)
        let chain = directory.join("server.chain.pem")
        try (String(contentsOfFile: pki.server.certPath, encoding: .utf8) + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8))
            .write(toFile: chain, atomically: true, encoding: .utf8)
        let (status, output) = try Self.run([
            "server", "--listen", "127.0.0.1:0", "--image-path", directory.join("images"), "--image-type", "demo",
            "--cert", chain, "--key", pki.server.keyPath, "--client-ca-cert", pki.intermediate.certPath,
        ])
        #expect(status == 1)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1, "\(output)")
        #expect(output.contains("invalid-argument: --client-ca-cert \(pki.intermediate.certPath) holds no self-signed root CA certificate"))
    }

    /// A TCP socket listening on 127.0.0.1 at a free port, and that port.
    static func listeningSocket() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        try #require(bound)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test(.requiresIconBinary, .tags(.iconProcess))
    func aPortInUseFailsWithOneLineNamingListen() throws {
        let directory = try TemporaryDirectory(prefix: "icon-server-run")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.join("pki"))
        try FileManager.default.createDirectory(atPath: directory.join("images/demo"), withIntermediateDirectories: true)
        let (fd, port) = try Self.listeningSocket()
        defer { close(fd) }
        let (status, output) = try Self.run([
            "server", "--listen", "127.0.0.1:\(port)", "--image-path", directory.join("images"), "--image-type", "demo",
            "--cert", pki.server.certPath, "--key", pki.server.keyPath, "--client-ca-cert", pki.root.certPath,
        ])
        #expect(status == 1)
        let errors = output.split(separator: "\n").filter { $0.hasPrefix("icon: ") }
        #expect(errors == ["icon: network: cannot listen on 127.0.0.1:\(port) (--listen): the address is in use; stop what listens there or choose another port"], "\(output)")
        #expect(!output.contains("usage") && !output.contains("errno"), "\(output)")
    }

    @Test func identityFlagsReachTheConfigurationAndBadOnesNameTheFlag() throws {
        let base = ["--image-path", "/srv", "--image-type", "demo", "--cert", "c.pem", "--key", "k.pem", "--client-ca-cert", "ca.pem"]
        let command = try ServerRun.parse(
            base + ["--allowed-origin", "https://ops.example.net:8443", "--allowed-origin", "http://localhost:3000", "--max-hostnames-per-certificate", "4"])
        var configuration = ImageServerConfiguration(
            imagePath: "/srv", imageTypes: ["demo"], certificateChainPath: "c.pem", privateKeyPath: "k.pem", clientCAPath: "ca.pem")
        try command.applyIdentityFlags(to: &configuration)
        #expect(configuration.allowedOrigins == ["https://ops.example.net:8443", "http://localhost:3000"])
        #expect(configuration.maxHostnamesPerCertificate == 4)
        let defaults = try ServerRun.parse(base)
        #expect(defaults.allowedOrigin.isEmpty && defaults.maxHostnamesPerCertificate == 16)
        for (extra, flag) in [(["--allowed-origin", "ops.example.net"], "--allowed-origin 'ops.example.net'"),
                              (["--allowed-origin", "https://ops.example.net/dashboard"], "--allowed-origin"),
                              (["--max-hostnames-per-certificate=-1"], "--max-hostnames-per-certificate")] {
            let error = #expect(throws: IconError.self) { try ServerRun.parse(base + extra).applyIdentityFlags(to: &configuration) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix(flag) == true, "\(error?.message ?? "")")
        }
    }
}
