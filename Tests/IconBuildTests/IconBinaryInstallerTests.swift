import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconBuild

/// `IconBinaryInstaller` with the real `icon` binary of this build: the copy must run in a root
/// that has only the C libraries of a minimal Debian system, and no Swift toolchain.
@Suite struct IconBinaryInstallerTests {
    /// What a minimal Debian root has: the loader and the C and C++ runtime libraries.
    static let baseLibraries = [
        "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1", "/lib/x86_64-linux-gnu/libz.so.1",
    ]

    @Test(.requiresRoot("chroot"), .requiresReleaseBinary)
    func releaseBinaryRunsInARootWithOnlyTheCLibraries() async throws {
        let binary = try #require(TestEnvironment.releaseBinary)
        try await withTemporaryDirectory { dir in
            let root = dir.join("root")
            for library in Self.baseLibraries {
                let target = root + library
                try FileManager.default.createDirectory(
                    atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: URL(fileURLWithPath: library).resolvingSymlinksInPath().path, toPath: target)
            }
            let context = try ModuleContext(chrootPath: root, logger: ModuleContextTests.logger)
            try await IconBinaryInstaller(binary: binary, flag: "--icon-binary").install(into: context)
            // One file, no Swift libraries beside it.
            #expect(try FileManager.default.attributesOfItem(atPath: root + "/usr/local/bin/icon")[.type] as? FileAttributeType == .typeRegular)
            #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/lib/icon"))
            // As on a booted machine, /proc is there: Swift reads its arguments from it.
            try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
            let runner = SubprocessToolRunner()
            try await runner.checked(ToolInvocation("mount", ["-t", "proc", "proc", root + "/proc"]), logger: ModuleContextTests.logger)
            let output: Result<ToolOutput, any Error>
            do {
                output = .success(try await runner.run(ToolInvocation("chroot", [root, "/usr/local/bin/icon", "--version"]), logger: ModuleContextTests.logger))
            } catch {
                output = .failure(error)
            }
            _ = try? await runner.run(ToolInvocation("umount", [root + "/proc"]), logger: ModuleContextTests.logger)
            let finished = try output.get()
            #expect(finished.exitCode == 0, "icon did not run in the chroot: \(finished.standardError)")
            let version = finished.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(version.hasPrefix("\(IconVersion.release) (commit "), "\(version)")
            #expect(!version.contains("debug"))
        }
    }

    /// The debug `icon` beside the tests, as a newcomer would pass it: refused before anything is
    /// written, naming the flag and the script that makes the right binary.
    @Test(.requiresIconBinary)
    func aDebugBuildIsRefusedWithTheFix() async throws {
        let binary = try #require(TestEnvironment.iconBinary)
        try await withTemporaryDirectory { dir in
            let context = try ModuleContext(chrootPath: dir.path, logger: ModuleContextTests.logger)
            let error = await expectIconError(.invalidArgument) {
                try await IconBinaryInstaller(binary: binary, flag: "--icon-binary").install(into: context)
            }
            #expect(error?.message.hasPrefix("--icon-binary \(binary) is a debug build") == true, "\(String(describing: error))")
            #expect(error?.message.contains("scripts/build-release.sh") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
    }

    /// What `ldd` says of a build without `--static-swift-stdlib`, and of one that needs a
    /// library the image lacks.
    @Test func theSwiftRuntimeAsSharedLibrariesAndMissingLibrariesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let binary = dir.join("icon")
            try Data("<icon>".utf8).write(to: URL(fileURLWithPath: binary))
            let root = dir.join("root")
            try FileManager.default.createDirectory(atPath: root + "/lib/x86_64-linux-gnu", withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: root + "/lib/x86_64-linux-gnu/libc.so.6"))
            func runner(ldd: String) -> RecordingToolRunner {
                RecordingToolRunner { invocation in
                    switch invocation.executable {
                    case "ldd": ToolOutput(exitCode: 0, standardOutput: ldd)
                    case binary: ToolOutput(exitCode: 0, standardOutput: "0.2.0 (commit 0123456789ab)\n")
                    default: ToolOutput(exitCode: 0)
                    }
                }
            }
            let libc = "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"
            let dynamic = try ModuleContext(
                chrootPath: root, runner: runner(ldd: libc + "\tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x2)\n"),
                logger: ModuleContextTests.logger)
            let shared = await expectIconError(.invalidArgument) {
                try await IconBinaryInstaller(binary: binary, flag: "--icon-binary").install(into: dynamic)
            }
            #expect(shared?.message.contains("links the Swift runtime as shared libraries (libswiftCore.so)") == true)
            let needsZlib = try ModuleContext(
                chrootPath: root, runner: runner(ldd: libc + "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x3)\n"),
                logger: ModuleContextTests.logger)
            let missing = await expectIconError(.invalidArgument) {
                try await IconBinaryInstaller(binary: binary, flag: "--icon-binary").install(into: needsZlib)
            }
            #expect(missing?.message.contains("needs libz.so.1, which the image lacks") == true)
            #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/icon"))
            // The same binary with only libc: installed.
            let fine = try ModuleContext(chrootPath: root, runner: runner(ldd: libc), logger: ModuleContextTests.logger)
            try await IconBinaryInstaller(binary: binary, flag: "--icon-binary").install(into: fine)
            #expect(FileManager.default.contents(atPath: root + "/usr/local/bin/icon") == Data("<icon>".utf8))
        }
    }

    @Test func lddOutputIsParsedIntoLibrariesToCopy() {
        let text = """
            \tlinux-vdso.so.1 (0x00007ffd)
            \tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x00007f21)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f20)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f21)
            \tlibgone.so.1 => not found
            """
        #expect(IconBinaryInstaller.parse(text) == [
            .init(name: "libswiftCore.so", path: "/opt/swift/usr/lib/swift/linux/libswiftCore.so"),
            .init(name: "libc.so.6", path: "/lib/x86_64-linux-gnu/libc.so.6"),
        ])
        #expect(IconBinaryInstaller.unresolved(text) == ["libgone.so.1"])
    }

    @Test func aMissingBinaryIsNamed() async throws {
        try await withTemporaryDirectory { dir in
            let context = try ModuleContext(chrootPath: dir.path, runner: RecordingToolRunner(), logger: ModuleContextTests.logger)
            let error = await #expect(throws: IconError.self) {
                try await IconBinaryInstaller(binary: dir.join("no-such-icon"), flag: "--icon-binary").install(into: context)
            }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("no-such-icon") == true)
        }
    }
}
