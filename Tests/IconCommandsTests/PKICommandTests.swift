import ArgumentParser
import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconCommands
import X509

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
            #expect(unchained.code == .untrusted)
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
        for flag in ["--ca-dir", "--role", "--name", "--dns", "--ip", "--days", "--out", "--p12", "--no-p12", "--p12-password-file"] {
            #expect(help.contains(flag), "\(flag)")
        }
        #expect(help.contains("signer"))
        #expect(PKIVerify.helpMessage().contains("--purpose"))
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// `openssl pkcs12` opens `p12` with the first line of `passwordFile` and finds the certificate
    /// at `certificatePath`, the CA's intermediate and the matching key.
    static func expectOpenSSLReads(_ p12: String, passwordFile: String, certificatePath: String, ca: String) throws {
        let dump = try OpenSSLTool.run(["pkcs12", "-in", p12, "-nodes", "-passin", "file:\(passwordFile)"])
        #expect(dump.status == 0, "\(dump.output)")
        let expected = try PEMFile.certificates(atPath: certificatePath) + PEMFile.certificates(atPath: "\(ca)/intermediate.cert.pem")
        #expect(try PEMFile.certificates(fromPEM: dump.output, source: "openssl") == expected)
        #expect(try PEMFile.privateKey(fromPEM: dump.output, source: "openssl").publicKey == expected.first?.publicKey)
    }

    @Test func initWritesTheCABundle() async throws {
        try await withTemporaryDirectory { dir in
            try await Self.run(["init", dir.join("ca")])
            let bundle = try PEMFile.certificates(atPath: dir.join("ca/ca-bundle.pem"))
            #expect(bundle == (try PEMFile.certificates(atPath: dir.join("ca/root.cert.pem")) + PEMFile.certificates(atPath: dir.join("ca/intermediate.cert.pem"))))
            #expect(try Self.mode(dir.join("ca/ca-bundle.pem")) == 0o644)
        }
    }

    @Test func operatorsGetAPKCS12WithANewPassword() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca])
            try await Self.run(["issue", "--ca-dir", ca, "--role", "operator", "--name", "Alice Operator", "--out", dir.join("alice")])
            for file in ["alice.key.pem", "alice.p12", "alice.p12.password"] {
                #expect(try Self.mode(dir.join(file)) == 0o600, "\(file)")
            }
            #expect(try Self.mode(dir.join("alice.cert.pem")) == 0o644)
            try Self.expectOpenSSLReads(
                dir.join("alice.p12"), passwordFile: dir.join("alice.p12.password"), certificatePath: dir.join("alice.cert.pem"), ca: ca)
        }
    }

    @Test func p12FlagsChooseForAnyRole() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca])
            try await Self.run(["issue", "--ca-dir", ca, "--role", "server", "--name", "localhost", "--out", dir.join("server")])
            #expect(Self.exists(dir.join("server.cert.pem")))
            #expect(!Self.exists(dir.join("server.p12")))
            #expect(!Self.exists(dir.join("server.p12.password")))

            try await Self.run(["issue", "--ca-dir", ca, "--role", "device", "--name", "kiosk-1", "--p12", "--out", dir.join("kiosk")])
            try Self.expectOpenSSLReads(
                dir.join("kiosk.p12"), passwordFile: dir.join("kiosk.p12.password"), certificatePath: dir.join("kiosk.cert.pem"), ca: ca)

            try await Self.run(["issue", "--ca-dir", ca, "--role", "operator", "--name", "bob", "--no-p12", "--out", dir.join("bob")])
            #expect(Self.exists(dir.join("bob.key.pem")))
            #expect(!Self.exists(dir.join("bob.p12")))
            #expect(!Self.exists(dir.join("bob.p12.password")))
        }
    }

    @Test func aPasswordFileSetsThePassword() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca])
            try "chosen by alice\nnot part of it\n".write(toFile: dir.join("pw"), atomically: true, encoding: .utf8)
            try "chosen by alice\n".write(toFile: dir.join("first-line"), atomically: true, encoding: .utf8)
            try await Self.run([
                "issue", "--ca-dir", ca, "--role", "operator", "--name", "alice", "--p12-password-file", dir.join("pw"),
                "--out", dir.join("alice"),
            ])
            #expect(!Self.exists(dir.join("alice.p12.password")))
            try Self.expectOpenSSLReads(
                dir.join("alice.p12"), passwordFile: dir.join("first-line"), certificatePath: dir.join("alice.cert.pem"), ca: ca)

            // For another role the password file alone asks for the .p12.
            try await Self.run([
                "issue", "--ca-dir", ca, "--role", "signer", "--name", "signer", "--p12-password-file", dir.join("pw"),
                "--out", dir.join("signer"),
            ])
            try Self.expectOpenSSLReads(
                dir.join("signer.p12"), passwordFile: dir.join("first-line"), certificatePath: dir.join("signer.cert.pem"), ca: ca)
        }
    }

    @Test func badPasswordOptionsFailBeforeAnythingIsWritten() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca])
            try "pw\n".write(toFile: dir.join("pw"), atomically: true, encoding: .utf8)
            try "\n".write(toFile: dir.join("empty"), atomically: true, encoding: .utf8)
            let issue = ["issue", "--ca-dir", ca, "--role", "operator", "--name", "alice", "--out", dir.join("alice")]
            for (extra, code, named) in [
                (["--no-p12", "--p12-password-file", dir.join("pw")], IconError.Code.invalidArgument, "--p12-password-file"),
                (["--p12-password-file", dir.join("missing")], .notFound, dir.join("missing")),
                (["--p12-password-file", dir.join("empty")], .invalidArgument, dir.join("empty")),
            ] {
                let error = try await #require(throws: IconError.self) { try await Self.run(issue + extra) }
                #expect(error.code == code, "\(extra)")
                #expect(error.message.contains(named), "\(error.message)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("alice") }.isEmpty)
            }
        }
    }

    /// Runs the built `icon` with `arguments`; returns its exit status, standard output and standard error.
    static func runIcon(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(TestEnvironment.iconBinary))
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Both pipes stay far below the pipe buffer for these commands, so reading one after the other cannot block.
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// The README's commands, run as a user runs them.
    @Test(.requiresIconBinary, .tags(.iconProcess))
    func theBuiltBinaryWritesWhatTheREADMESays() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            let initRun = try Self.runIcon(["pki", "init", ca])
            #expect(initRun.status == 0, "\(initRun.error)")
            #expect(initRun.output.contains("\(ca)/ca-bundle.pem"))
            #expect(try Self.mode("\(ca)/ca-bundle.pem") == 0o644)

            let issue = try Self.runIcon(["pki", "issue", "--ca-dir", ca, "--role", "operator", "--name", "Alice Operator", "--out", "\(ca)/alice"])
            #expect(issue.status == 0, "\(issue.error)")
            #expect(issue.error.isEmpty, "\(issue.error)")
            let passwordFile = "\(ca)/alice.p12.password"
            #expect(issue.output.contains("\(ca)/alice.p12 "), "\(issue.output)")
            #expect(issue.output.contains(passwordFile), "\(issue.output)")
            let password = try PKCS12Password.read(fromFile: passwordFile)
            #expect(!issue.output.contains(password), "the password must not be printed")
            for file in ["alice.key.pem", "alice.p12", "alice.p12.password"] {
                #expect(try Self.mode("\(ca)/\(file)") == 0o600, "\(file)")
            }
            try Self.expectOpenSSLReads(
                "\(ca)/alice.p12", passwordFile: passwordFile, certificatePath: "\(ca)/alice.cert.pem", ca: ca)
            if NSSDatabase.isAvailable {
                let imported = try NSSDatabase(directory: dir.join("nssdb")).importPKCS12("\(ca)/alice.p12", passwordFile: passwordFile)
                #expect(imported.status == 0, "\(imported.output)")
            }

            let refused = try Self.runIcon([
                "pki", "issue", "--ca-dir", ca, "--role", "operator", "--name", "bob", "--no-p12",
                "--p12-password-file", passwordFile, "--out", dir.join("bob"),
            ])
            #expect(refused.status == 1)
            #expect(refused.error.hasPrefix("icon: invalid-argument: --p12-password-file "), "\(refused.error)")
            #expect(refused.error.split(separator: "\n").count == 1, "\(refused.error)")
        }
    }

    /// Whom icon certserver issues to: clientAuth plus the provisioner role, shown by pki show.
    @Test(.requiresIconBinary, .tags(.iconProcess))
    func provisionersAreARole() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            try await Self.run(["init", ca])
            try await Self.run(["issue", "--ca-dir", ca, "--role", "provisioner", "--name", "Imaging Station", "--no-p12", "--out", dir.join("prov")])
            try await Self.run(["issue", "--ca-dir", ca, "--role", "device", "--name", "kiosk-1", "--out", dir.join("device")])
            let certificate = try #require(try PEMFile.certificates(atPath: dir.join("prov.cert.pem")).first)
            #expect(CertificateRole.roles(of: certificate) == [.provisioner])
            #expect(CertificateIdentity.dnsNames(of: certificate).isEmpty)
            let verify = ["verify", "--ca-cert", "\(ca)/root.cert.pem", "--other-cert", "\(ca)/intermediate.cert.pem", "--purpose", "provisioner"]
            try await Self.run(verify + [dir.join("prov.cert.pem")])
            let error = try await #require(throws: IconError.self) { try await Self.run(verify + [dir.join("device.cert.pem")]) }
            #expect(error.code == .untrusted)
            #expect(error.message.contains("lacks the Iconograph provisioner role"))
            let show = try Self.runIcon(["pki", "show", dir.join("prov.cert.pem")])
            #expect(show.status == 0, "\(show.error)")
            #expect(show.output.contains("provisioner"), "\(show.output)")
            #expect(show.output.contains("iconograph-provisioner"), "\(show.output)")
        }
    }

    /// Whoever can write the CA directory can swap its keys: it is made 0700 whatever the
    /// umask, and a group- or world-writable one is refused.
    @Test(.requiresIconBinary, .tags(.iconProcess))
    func theCADirectoryIsPrivate() async throws {
        try await withTemporaryDirectory { dir in
            let ca = dir.join("ca")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask 000 && exec \"$0\" pki init \"$1\"", try #require(TestEnvironment.iconBinary), ca]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(try Self.mode(ca) == 0o700)
            #expect(try Self.mode("\(ca)/root.key.pem") == 0o600)

            let open = dir.join("open")
            try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open)
            let refused = try Self.runIcon(["pki", "init", open])
            #expect(refused.status == 1)
            #expect(
                refused.error
                    == "icon: permission: the CA directory \(open) is writable by its group or others (mode 777); run chmod 700 \(open) first\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty)
            // Tightened by hand, it is used.
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: open)
            try await Self.run(["init", open])
            #expect(Self.exists("\(open)/root.cert.pem"))
        }
    }
}
