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

    @Test(.requiresRoot("chroot"), .requiresIconBinary)
    func installedBinaryRunsInARootWithoutSwift() async throws {
        let binary = try #require(TestEnvironment.iconBinary)
        try await withTemporaryDirectory { dir in
            let root = dir.join("root")
            for library in Self.baseLibraries {
                let target = root + library
                try FileManager.default.createDirectory(
                    atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: URL(fileURLWithPath: library).resolvingSymlinksInPath().path, toPath: target)
            }
            let context = try ModuleContext(chrootPath: root, logger: ModuleContextTests.logger)
            let copied = try await IconBinaryInstaller().install(binary: binary, into: context)
            // The Swift runtime comes along; what the root already has does not.
            #expect(copied.contains("/usr/local/lib/icon/libswiftCore.so"))
            #expect(copied.contains("/usr/local/lib/icon/libFoundation.so"))
            #expect(!copied.contains { $0.hasSuffix("/libc.so.6") || $0.hasSuffix("/libstdc++.so.6") })
                        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/local/bin/icon") == "../lib/icon/icon")
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
            #expect(finished.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == IconVersion.string)
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
                try await IconBinaryInstaller().install(binary: dir.join("no-such-icon"), into: context)
            }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("no-such-icon") == true)
        }
    }
}
