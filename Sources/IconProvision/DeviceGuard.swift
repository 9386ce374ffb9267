import Foundation
public import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// The safety checks run before a disk is erased: the device must not be mounted (itself or
/// any partition) and must not hold the running system (the filesystems of `/` and `/boot`).
///
/// Paths to `/proc` and `/sys` are injected so the parsing can be tested on fixtures.
public struct DeviceGuard: Sendable {
    /// The mount table to read.
    public var mountsFile: String
    /// sysfs's block class directory, for partitions, sizes and major:minor numbers.
    public var sysBlock: String
    /// Directories whose filesystems make up the running system.
    public var systemPaths: [String]

    public init(
        mountsFile: String = "/proc/self/mounts", sysBlock: String = "/sys/class/block",
        systemPaths: [String] = ["/", "/boot"]
    ) {
        self.mountsFile = mountsFile
        self.sysBlock = sysBlock
        self.systemPaths = systemPaths
    }

    /// The kernel name of `device` (`/dev/disk/by-id/x` → `sda`) after resolving links.
    public static func kernelName(of device: String) -> String {
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: device))
            .map { $0.hasPrefix("/") ? $0 : ((device as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0) }
            ?? device
        return ((resolved as NSString).standardizingPath as NSString).lastPathComponent
    }

    /// The kernel names of `name` and its partitions, from sysfs.
    public func names(including name: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(sysBlock)/\(name)")) ?? []
        let partitions = entries.filter {
            $0.hasPrefix(name) && FileManager.default.fileExists(atPath: "\(sysBlock)/\(name)/\($0)/partition")
        }
        return [name] + partitions.sorted()
    }

    /// The size of block device `name` in bytes (sysfs counts 512-byte sectors).
    public func size(ofBlockDevice name: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: "\(sysBlock)/\(name)/size", encoding: .utf8),
            let sectors = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return sectors * 512
    }

    /// `major:minor` of block device `name`, as sysfs writes it.
    func deviceNumber(of name: String) -> String? {
        (try? String(contentsOfFile: "\(sysBlock)/\(name)/dev", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Throws unless erasing block device `device` is safe.
    ///
    /// - Throws: `IconError.Code.deviceBusy` naming the device and the mount point or the
    ///   system path it holds.
    public func check(device: String) throws {
        let name = Self.kernelName(of: device)
        let names = names(including: name)
        let nodes = Set(names.map { "/dev/\($0)" })
        let numbers = Set(names.compactMap(deviceNumber(of:)))
        for entry in Self.mounts(in: (try? String(contentsOfFile: mountsFile, encoding: .utf8)) ?? "") {
            let source = entry.source
            var hit = nodes.contains(source) || nodes.contains("/dev/\(Self.kernelName(of: source))")
            if !hit, source.hasPrefix("/dev/"), let number = Self.rdevNumber(of: source) {
                hit = numbers.contains(number)
            }
            if hit {
                throw IconError(.deviceBusy, "\(device) is in use: \(source) is mounted on \(entry.mountPoint)")
            }
        }
        for path in systemPaths {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let number = Self.numberText(UInt64(info.st_dev))
            if numbers.contains(number) {
                throw IconError(.deviceBusy, "\(device) holds the running system (\(path) is on it)")
            }
        }
    }

    /// The (source, mount point) pairs of a `/proc/self/mounts` text, with `\040`-style
    /// escapes decoded.
    public static func mounts(in text: String) -> [(source: String, mountPoint: String)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { return nil }
            return (unescape(String(fields[0])), unescape(String(fields[1])))
        }
    }

    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var result = ""
        var index = field.startIndex
        while index < field.endIndex {
            let rest = field[index...]
            if rest.hasPrefix("\\"), rest.count >= 4, let code = UInt8(rest.dropFirst().prefix(3), radix: 8) {
                result.append(Character(Unicode.Scalar(code)))
                index = field.index(index, offsetBy: 4)
            } else {
                result.append(field[index])
                index = field.index(after: index)
            }
        }
        return result
    }

    /// `major:minor` of a `dev_t`, decoded as glibc's `major()`/`minor()` macros do
    /// (the macros are not visible from Swift).
    static func numberText(_ device: UInt64) -> String {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return "\(major):\(minor)"
    }

    private static func rdevNumber(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFBLK else { return nil }
        return numberText(UInt64(info.st_rdev))
    }
}

extension IconError.Code {
    /// A device is mounted, holds the running system or is otherwise in use.
    public static let deviceBusy: IconError.Code = "device-busy"
    /// The user did not confirm a destructive operation.
    public static let notConfirmed: IconError.Code = "not-confirmed"
}
