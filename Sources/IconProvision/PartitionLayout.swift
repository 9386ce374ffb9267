/// The partitions ``DiskImager`` creates, as a value so the plan can be unit-tested.
///
/// - `bios`: msdos label; `BOOT` (ext4, boot flag) then optional `PERSISTENT` (ext4).
/// - `uefi`: GPT; `ESP` (64 MiB vfat), `BOOT`, optional `PERSISTENT`.
/// - `both`: GPT; `bios_grub` (1 MiB, no filesystem: GRUB's i386-pc core image lives there),
///   `ESP`, `BOOT`, optional `PERSISTENT`.
///
/// `PERSISTENT` takes `persistentPercent` percent of the disk at its end; `BOOT` takes the
/// rest. Partitions start at 1 MiB boundaries.
public struct PartitionLayout: Sendable, Equatable {
    /// What a partition is for.
    public enum Role: String, Sendable, Equatable {
        case biosGrub = "bios_grub"
        case esp = "ESP"
        case boot = "BOOT"
        case persistent = "PERSISTENT"
    }

    /// One planned partition: its number, role and bounds as parted units (`1MiB`, `50%`).
    public struct Partition: Sendable, Equatable {
        public var number: Int
        public var role: Role
        public var start: String
        public var end: String
    }

    /// `msdos` or `gpt`.
    public var label: String
    public var partitions: [Partition]

    /// Plans the layout for `firmware` with `persistentPercent` (0-99) for `PERSISTENT`.
    public init(firmware: Firmware, persistentPercent: Int) {
        var roles: [(Role, String, String)] = []
        var next = "1MiB"
        switch firmware {
        case .bios:
            label = "msdos"
        case .uefi:
            label = "gpt"
            roles.append((.esp, "1MiB", "65MiB"))
            next = "65MiB"
        case .both:
            label = "gpt"
            roles.append((.biosGrub, "1MiB", "2MiB"))
            roles.append((.esp, "2MiB", "66MiB"))
            next = "66MiB"
        }
        if persistentPercent > 0 {
            let split = "\(100 - persistentPercent)%"
            roles.append((.boot, next, split))
            roles.append((.persistent, split, "100%"))
        } else {
            roles.append((.boot, next, "100%"))
        }
        partitions = roles.enumerated().map { index, item in
            Partition(number: index + 1, role: item.0, start: item.1, end: item.2)
        }
    }

    /// The partition with `role`, if the layout has one.
    public func partition(_ role: Role) -> Partition? {
        partitions.first { $0.role == role }
    }

    /// The device node of partition `number` on `device`: `/dev/sda1`, but `/dev/loop0p1`
    /// and `/dev/nvme0n1p1` when the device name ends in a digit.
    public static func partitionPath(device: String, number: Int) -> String {
        let separator = device.last?.isNumber == true ? "p" : ""
        return "\(device)\(separator)\(number)"
    }
}
