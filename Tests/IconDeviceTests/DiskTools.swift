import Foundation
import IconCore
@testable import IconProvision
import IconTestSupport
import Logging
import Synchronization
import Testing


/// Real-tool helpers for the disk tests (they run as root with loop devices).
enum DiskTools {
    static let runner = SubprocessToolRunner()
    static let logger = Logger(label: "disk-test")

    /// Runs a command and returns its standard output; throws when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await runner.checked(ToolInvocation(executable, arguments), logger: logger).standardOutput
    }

    /// A sparse disk image file of `megabytes` MiB.
    static func sparseDisk(at path: String, megabytes: UInt64) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: megabytes << 20)
        try handle.close()
    }

    /// The loop devices `file` is attached to.
    static func loops(of file: String) async throws -> [String] {
        Losetup.devices(fromAssociated: try await run("losetup", ["--associated", file]))
    }

    /// Attaches `file` with partitions for the duration of `body`, detached afterwards.
    static func withLoop<T: Sendable>(_ file: String, _ body: (String) async throws -> T) async throws -> T {
        let target = DiskTarget(path: file, isFile: true, size: 0)
        return try await target.withBlockDevice(runner: runner, logger: logger) { loop in
            // This machine's kernel does not parse partition tables itself (parted adds
            // partitions with BLKPG while imaging); partx does the same for existing ones.
            _ = try? await runner.run(ToolInvocation("partx", ["--update", loop]), logger: logger)
            return try await body(loop)
        }
    }

    /// `blkid` value of `tag` (LABEL, TYPE) for `device`, or "" when it has none.
    static func blkid(_ device: String, _ tag: String) async throws -> String {
        let output = try await runner.run(ToolInvocation("blkid", ["-p", "-o", "value", "-s", tag, device]), logger: logger)
        return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `xorriso` and the other imaging tools exist (the tests need them).
    /// The disk tools the loop-device tests run.
    static let required = ConditionTrait.requiresExecutables(
        ["xorriso", "parted", "grub-install", "losetup", "mkfs.ext4"],
        package: "xorriso parted grub-pc-bin util-linux e2fsprogs")
}

/// A value shared with `@Sendable` closures in tests.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func mutate(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}
