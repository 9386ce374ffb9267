import Foundation
import IconCore
@testable import IconProvision
import IconTestSupport
import Testing


@Suite("Device guard on fixture /proc and /sys")
struct DeviceGuardTests {
    /// A fake sysfs with `sdz` (partitions sdz1, sdz2) and `sdy` (no partitions).
    static func fixture(_ dir: TemporaryDirectory, mounts: String) throws -> DeviceGuard {
        let fm = FileManager.default
        for (path, dev) in [("sdz", "8:240"), ("sdz/sdz1", "8:241"), ("sdz/sdz2", "8:242"), ("sdy", "8:224")] {
            try fm.createDirectory(atPath: dir.join("sys/\(path)"), withIntermediateDirectories: true)
            try Data("\(dev)\n".utf8).write(to: URL(fileURLWithPath: dir.join("sys/\(path)/dev")))
            if path.contains("/") {
                try Data("1\n".utf8).write(to: URL(fileURLWithPath: dir.join("sys/\(path)/partition")))
            }
        }
        try Data("16777216\n".utf8).write(to: URL(fileURLWithPath: dir.join("sys/sdz/size")))
        try Data(mounts.utf8).write(to: URL(fileURLWithPath: dir.join("mounts")))
        return DeviceGuard(mountsFile: dir.join("mounts"), sysBlock: dir.join("sys"), systemPaths: [])
    }

    @Test func mountedPartitionIsRefusedNamingTheMountPoint() async throws {
        try await withTemporaryDirectory { dir in
            let deviceGuard = try Self.fixture(dir, mounts: "proc /proc proc rw 0 0\n/dev/sdz2 /media/my\\040stick ext4 rw 0 0\n")
            #expect(deviceGuard.names(including: "sdz") == ["sdz", "sdz1", "sdz2"])
            do {
                try deviceGuard.check(device: "/dev/sdz")
                Issue.record("expected a refusal")
            } catch let error as IconError {
                #expect(error.code == .deviceBusy)
                #expect(error.message == "/dev/sdz is in use: /dev/sdz2 is mounted on /media/my stick")
            }
            try deviceGuard.check(device: "/dev/sdy")
        }
    }

    @Test func sizeComesFromSysfsSectors() async throws {
        try await withTemporaryDirectory { dir in
            let deviceGuard = try Self.fixture(dir, mounts: "")
            #expect(deviceGuard.size(ofBlockDevice: "sdz") == 8 << 30)
            #expect(deviceGuard.size(ofBlockDevice: "sdq") == nil)
        }
    }

    @Test func deviceNumbersDecodeLikeGlibc() {
        #expect(DeviceGuard.numberText(0x0803) == "8:3")
        #expect(DeviceGuard.numberText(0x10_082C) == "8:300")
        #expect(DeviceGuard.numberText(UInt64(259) << 8 | 1) == "259:1")
    }
}
