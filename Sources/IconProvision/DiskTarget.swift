import Foundation
public import IconCore
public import Logging

/// The `--device` of a disk tool: a block device, or a disk image file that is attached to
/// a loop device for the duration of the work and always detached afterwards.
public struct DiskTarget: Sendable {
    /// The path as given.
    public let path: String
    /// True for a regular file (a disk image), false for a block device.
    public let isFile: Bool
    /// Size in bytes.
    public let size: UInt64

    /// Looks at `path` and runs the safety checks of `deviceGuard` on it.
    ///
    /// A file already attached to a loop device is refused too: something may be using it.
    /// - Throws: `.notFound`, `.invalidArgument` (neither file nor block device),
    ///   `.deviceBusy` naming the device.
    public static func inspect(
        _ path: String, deviceGuard: DeviceGuard, runner: any ToolRunner, logger: Logger
    ) async throws -> DiskTarget {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw IconError(.notFound, "--device \(path) does not exist")
        }
        let type = attributes[.type] as? FileAttributeType
        if type == .typeRegular {
            let output = try await runner.checked(Losetup.associated(file: path), logger: logger)
            if let loop = Losetup.devices(fromAssociated: output.standardOutput).first {
                throw IconError(.deviceBusy, "\(path) is in use: attached to \(loop)")
            }
            let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
            return DiskTarget(path: path, isFile: true, size: size)
        }
        guard type == .typeBlockSpecial else {
            throw IconError(.invalidArgument, "--device \(path) is neither a block device nor a disk image file")
        }
        try deviceGuard.check(device: path)
        let size = deviceGuard.size(ofBlockDevice: DeviceGuard.kernelName(of: path)) ?? 0
        return DiskTarget(path: path, isFile: false, size: size)
    }

    /// The confirmation question: `erase /dev/sdx (8 GiB)? [y/N] `.
    public var question: String {
        "erase \(path) (\(Self.humanSize(size)))? [y/N] "
    }

    /// `size` bytes in binary units with at most one decimal: `512 MiB`, `7.5 GiB`.
    public static func humanSize(_ size: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(size)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }

    /// Runs `body` with a block device for the target: the device itself, or a loop device
    /// attached with partition scanning that is detached afterwards, also when `body` throws.
    public func withBlockDevice<T: Sendable>(
        runner: any ToolRunner, logger: Logger, _ body: (String) async throws -> T
    ) async throws -> T {
        guard isFile else { return try await body(path) }
        let output = try await runner.checked(Losetup.attach(file: path), logger: logger)
        let loop = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard loop.hasPrefix("/dev/") else {
            throw IconError(.toolFailed, "losetup printed no loop device for \(path): \(output.standardOutput)")
        }
        do {
            let value = try await body(loop)
            try await runner.checked(Losetup.detach(device: loop), logger: logger)
            return value
        } catch {
            _ = try? await runner.run(Losetup.detach(device: loop), logger: logger)
            throw error
        }
    }

    /// Waits up to `timeout` for a device node to appear (partition nodes show up shortly
    /// after the kernel re-reads a partition table).
    /// - Throws: `.notFound` naming the node.
    public static func waitForNode(_ node: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !FileManager.default.fileExists(atPath: node) {
            guard ContinuousClock.now < deadline else {
                throw IconError(.notFound, "partition \(node) did not appear after partitioning")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
