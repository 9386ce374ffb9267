import ArgumentParser
import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconCommands

@Suite struct PKICommandTests {
    /// Parses `arguments` under `icon pki` and runs the chosen subcommand.
    static func run(_ arguments: [String]) async throws {
        var command = try PKICommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }

    @Test func initIssueVerifyShow() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca, "--name", "Test Fleet", "--organization", "Test Org"])
            let rootSubject = try #require(try PEMFile.certificates(atPath: "\(ca)/root.cert.pem").first).subject
            #expect(rootSubject.description == "CN=Test Fleet Root CA,O=Test Org")

            try await Self.run([
                "issue", "--ca-dir", ca, "--role", "server", "--name", "images", "--dns", "localhost",
                "--ip", "127.0.0.1", "--days", "10", "--out", dir.join("keys/server"),
            ])
            try await Self.run(["issue", "--ca-dir", ca, "--role", "device", "--name", "kiosk-1", "--out", dir.join("keys/device")])
            let server = try #require(try PEMFile.certificates(atPath: dir.join("keys/server.cert.pem")).first)
            #expect(CertificateRole.roles(of: server) == [.server])
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.join("keys/server.key.pem"))
            #expect(attributes[.posixPermissions] as? Int == 0o600)

            try await Self.run([
                "verify", "--ca-cert", "\(ca)/root.cert.pem", "--other-cert", dir.join("keys/server.chain.pem"),
                "--purpose", "server", dir.join("keys/server.cert.pem"),
            ])
            // The wrong purpose, a missing chain, and a device posing as operator all fail.
            for arguments in [
                ["--purpose", "client", dir.join("keys/server.cert.pem")],
                ["--purpose", "operator", dir.join("keys/device.cert.pem")],
            ] {
                let error = try await #require(throws: IconError.self) {
                    try await Self.run(["verify", "--ca-cert", "\(ca)/root.cert.pem", "--other-cert", "\(ca)/intermediate.cert.pem"] + arguments)
                }
                #expect(error.code == .untrusted)
            }
            let unchained = try await #require(throws: IconError.self) {
                try await Self.run(["verify", "--ca-cert", "\(ca)/root.cert.pem", "--purpose", "server", dir.join("keys/server.cert.pem")])
            }
            #expect(unchained.message.contains("server.cert.pem"))

            try await Self.run(["show", dir.join("keys/server.cert.pem")])
        }
    }

    @Test func initRefusesAnExistingCA() async throws {
        try await withTemporaryDirectory { dir in
            try await Self.run(["init", dir.join("ca")])
            let error = try await #require(throws: IconError.self) { try await Self.run(["init", dir.join("ca")]) }
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func issueNamesAMissingCADirectory() async throws {
        let error = try await #require(throws: IconError.self) {
            try await Self.run(["issue", "--ca-dir", "/nonexistent/ca", "--role", "signer", "--name", "x", "--out", "/tmp/never"])
        }
        #expect(error.code == .notFound)
        #expect(error.message.contains("/nonexistent/ca"))
    }

    @Test func unknownRoleIsAParseError() {
        #expect(throws: (any Error).self) {
            try PKICommand.parseAsRoot(["issue", "--ca-dir", "ca", "--role", "admin", "--name", "x", "--out", "p"])
        }
    }

    @Test func helpDescribesEveryFlag() {
        let help = PKIIssue.helpMessage()
        for flag in ["--ca-dir", "--role", "--name", "--dns", "--ip", "--days", "--out"] {
            #expect(help.contains(flag), "\(flag)")
        }
        #expect(help.contains("signer"))
        #expect(PKIVerify.helpMessage().contains("--purpose"))
    }
}
