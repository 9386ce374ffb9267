import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// The module helper API against a temporary directory standing in for the chroot.
@Suite struct ModuleContextTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func context(_ dir: TemporaryDirectory, runner: any ToolRunner = RecordingToolRunner()) throws -> ModuleContext {
        try ModuleContext(chrootPath: dir.path, runner: runner, logger: logger)
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func writesFilesWithExactModesAndParents() throws {
        try withTemporaryDirectorySync { dir in
            let context = try Self.context(dir)
            try context.writeFile("/etc/icon/secret.key", text: "k", mode: 0o600)
            try context.writeFile("/usr/local/bin/tool", text: "#!/bin/sh\n", mode: 0o755)
            #expect(try String(contentsOfFile: dir.join("etc/icon/secret.key"), encoding: .utf8) == "k")
            #expect(try Self.mode(dir.join("etc/icon/secret.key")) == 0o600)
            #expect(try Self.mode(dir.join("usr/local/bin/tool")) == 0o755)
            #expect(try Self.mode(dir.join("etc/icon")) == 0o755)
        }
    }

    @Test func refusesPathsEscapingTheChroot() throws {
        try withTemporaryDirectorySync { dir in
            let root = dir.join("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir.join("outside"), withIntermediateDirectories: true)
            // A symlink inside the image pointing out of it must not be written through.
            try FileManager.default.createSymbolicLink(atPath: "\(root)/etc", withDestinationPath: dir.join("outside"))
            let context = try ModuleContext(chrootPath: root, runner: RecordingToolRunner(), logger: Self.logger)
            expectIconError(.invalidArgument) { try context.writeFile("/../outside/x", text: "x") }
            expectIconError(.invalidArgument) { try context.writeFile("relative/x", text: "x") }
            expectIconError(.invalidArgument) { try context.writeFile("/etc/passwd", text: "x") }
            expectIconError(.invalidArgument) { try context.writeFile("/etc/sub/dir/file", text: "x") }
            #expect(!FileManager.default.fileExists(atPath: dir.join("outside/passwd")))
            #expect(!FileManager.default.fileExists(atPath: dir.join("outside/sub")))
        }
    }

    @Test func refusesTheHostRootAndMissingChroots() {
        expectIconError(.invalidArgument) { try ModuleContext(chrootPath: "/", runner: RecordingToolRunner()) }
        expectIconError(.invalidArgument) { try ModuleContext(chrootPath: "/nonexistent-icon-chroot", runner: RecordingToolRunner()) }
        expectIconError(.invalidArgument) { try ModuleContext(chrootPath: "relative", runner: RecordingToolRunner()) }
    }

    @Test func enableUnitLinksLikeSystemctl() throws {
        try withTemporaryDirectorySync { dir in
            let context = try Self.context(dir)
            try context.enableUnit("a.service")
            try context.enableUnit("a.service")  // idempotent
            let link = dir.join("etc/systemd/system/multi-user.target.wants/a.service")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/etc/systemd/system/a.service")
            expectIconError(.invalidArgument) { try context.enableUnit("../evil.service") }
        }
    }

    @Test func copyOverlayKeepsModesAndLinks() throws {
        try withTemporaryDirectorySync { dir in
            let overlay = dir.join("overlay")
            try FileManager.default.createDirectory(atPath: "\(overlay)/etc/app", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(overlay)/etc/app/run", contents: Data("x".utf8), attributes: [.posixPermissions: 0o750])
            try FileManager.default.createSymbolicLink(atPath: "\(overlay)/etc/app/link", withDestinationPath: "run")
            try FileManager.default.createDirectory(atPath: dir.join("root"), withIntermediateDirectories: true)
            let context = try ModuleContext(chrootPath: dir.join("root"), runner: RecordingToolRunner(), logger: Self.logger)
            try context.copyOverlay(from: overlay)
            #expect(try Self.mode(dir.join("root/etc/app/run")) == 0o750)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.join("root/etc/app/link")) == "run")
        }
    }

    @Test func installPackagesRunsAptInTheChroot() async throws {
        try await withTemporaryDirectory { dir in
            let runner = RecordingToolRunner()
            let context = try Self.context(dir, runner: runner)
            try await context.installPackages(["openssh-server", "vim"])
            let call = try #require(runner.invocations.first)
            #expect(call.executable == "chroot")
            #expect(call.arguments == [dir.path, "apt-get", "install", "-y", "--no-install-recommends", "openssh-server", "vim"])
            #expect(call.environment["DEBIAN_FRONTEND"] == "noninteractive")
            await expectIconError(.invalidArgument) { try await context.installPackages(["-o=APT::evil"]) }
            await expectIconError(.invalidArgument) { try await context.installPackages(["a b"]) }
        }
    }

    @Test func addUserCreatesThenUpdates() async throws {
        try await withTemporaryDirectory { dir in
            let runner = RecordingToolRunner()
            let context = try Self.context(dir, runner: runner)
            try await context.addUser(name: "ops", passwordHash: "$6$salt$hash", groups: ["sudo", "adm"], authorizedKey: "ssh-ed25519 AAAA ops")
            try context.writeFile("/etc/passwd", text: "root:x:0:0::/root:/bin/sh\nops:x:1000:1000::/home/ops:/bin/bash\n")
            try await context.addUser(name: "ops", passwordHash: "$6$salt$hash")
            #expect(runner.invocations.map(\.arguments) == [
                [dir.path, "useradd", "--create-home", "--shell", "/bin/bash", "--password", "$6$salt$hash", "--groups", "sudo,adm", "--", "ops"],
                [dir.path, "chown", "-R", "--", "ops:ops", "/home/ops/.ssh"],
                [dir.path, "usermod", "--password", "$6$salt$hash", "--", "ops"],
            ])
            #expect(try String(contentsOfFile: dir.join("home/ops/.ssh/authorized_keys"), encoding: .utf8) == "ssh-ed25519 AAAA ops\n")
            #expect(try Self.mode(dir.join("home/ops/.ssh/authorized_keys")) == 0o600)
            #expect(try Self.mode(dir.join("home/ops/.ssh")) == 0o700)
            await expectIconError(.invalidArgument) { try await context.addUser(name: "-oops", passwordHash: nil) }
            await expectIconError(.invalidArgument) { try await context.addUser(name: "ops", passwordHash: "a:b") }
            await expectIconError(.invalidArgument) { try await context.addUser(name: "ops", passwordHash: nil, groups: ["a;b"]) }
        }
    }

    @Test func systemdQuotingDefusesHostileValues() throws {
        #expect(try SystemdUnit.quote(#"a"b$c%d\e f"#) == #""a\"b$$c%%d\\e f""#)
        expectIconError(.invalidArgument) { try SystemdUnit.quote("x\nExecStartPre=/bin/evil") }
        let unit = try SystemdUnit.oneshot(description: "d", command: ["/bin/echo", "$HOME"])
        #expect(unit.contains("ExecStart=\"/bin/echo\" \"$$HOME\"\n"))
        expectIconError(.invalidArgument) { try SystemdUnit.oneshot(description: "x\n[Service]", command: ["/bin/true"]) }
    }
}
