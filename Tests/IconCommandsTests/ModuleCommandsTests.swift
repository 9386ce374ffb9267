import ArgumentParser
import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconCommands

/// `icon module ...` as build-image calls it: `<module value> --chroot-path=<chroot>`.
@Suite struct ModuleCommandsTests {
    static func run(_ arguments: [String]) async throws {
        var command = try ModuleCommand.parseAsRoot(arguments)
        guard var asyncCommand = command as? any AsyncParsableCommand else {
            try command.run()
            return
        }
        try await asyncCommand.run()
    }

    @Test func persistentRunsAsBuildImageCallsIt() async throws {
        try await withTemporaryDirectory { dir in
            try await Self.run(["persistent", "--chroot-path=\(dir.path)"])
            let fstab = try String(contentsOfFile: dir.join("etc/fstab"), encoding: .utf8)
            #expect(fstab.contains("LABEL=PERSISTENT /persistent auto defaults,nofail"))
        }
    }

    @Test func systemIDAndCertclientCommandsWriteTheirUnits() async throws {
        try await withTemporaryDirectory { dir in
            let root = dir.join("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            for name in ["ca.pem", "c.pem", "c.key"] {
                _ = FileManager.default.createFile(atPath: dir.join(name), contents: Data(name.utf8))
            }
            // A stand-in for dist/icon: it says it is a release build, and ldd finds no libraries.
            let icon = dir.join("icon")
            _ = FileManager.default.createFile(
                atPath: icon, contents: Data("#!/bin/sh\necho '0.2.0 (commit 0123456789ab)'\n".utf8), attributes: [.posixPermissions: 0o755])
            try await Self.run(["systemid", "--chroot-path", root])
            try await Self.run([
                "certclient", "--chroot-path", root, "--icon-binary", icon, "--server", "https://certs:8444", "--https-ca-cert", dir.join("ca.pem"),
                "--https-client-cert", dir.join("c.pem"), "--https-client-key", dir.join("c.key"), "--tag", "eap",
                "--subject", "/CN=SYSTEMID",
            ])
            #expect(FileManager.default.fileExists(atPath: "\(root)/etc/systemd/system/icon-systemid-hostname.service"))
            // An absolute link meant for inside the image: check the link itself, not its target.
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/etc/systemd/system/multi-user.target.wants/icon-certclient-eap.service") == "/etc/systemd/system/icon-certclient-eap.service")
            #expect(FileManager.default.contents(atPath: "\(root)/usr/local/bin/icon") == FileManager.default.contents(atPath: icon))
        }
    }

    @Test func missingChrootIsAClearError() async throws {
        let error = try await #require(throws: IconError.self) { try await Self.run(["persistent", "--chroot-path", "/nonexistent-icon-root"]) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--chroot-path /nonexistent-icon-root"))
    }

    @Test func everyModuleHasHelp() {
        for subcommand in ModuleCommand.configuration.subcommands {
            let help = subcommand.helpMessage()
            #expect(help.contains("--chroot-path"))
            #expect(help.contains("Example"))
        }
    }
}
