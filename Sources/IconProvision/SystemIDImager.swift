public import Foundation
public import IconCore
public import Logging

/// Makes a system identity drive (`icon systemid image`).
///
/// Layout: an msdos partition table with one partition over the whole device, formatted
/// ext4 with `LABEL=SYSTEMID` (a partition, not a bare filesystem, so other systems see
/// the stick as normal). It holds `systemid` (the 6-hex-digit id and a newline, which the
/// `systemid` boot module sets as the hostname) and an ed25519 SSH host key
/// `ssh_host_ed25519_key` (0600) with `ssh_host_ed25519_key.pub`.
///
/// The id is recorded in the database before the files are written: a run that fails
/// afterwards wastes an id but can never hand one out twice.
public struct SystemIDImager: Sendable {
    /// What a run made.
    public struct Result: Sendable, Equatable {
        /// The new system id.
        public var id: String
        /// The public host key line (`ssh-ed25519 AAAA... root@<id>`).
        public var publicKey: String
    }

    /// A block device or disk image file.
    public var device: String
    /// The id database.
    public var database: SystemIDDatabase
    /// Asked with ``DiskTarget/question``; see ``DiskImagerConfiguration/confirm``.
    public var confirm: @Sendable (String) throws -> Bool
    public var temporaryDirectory: String
    public var deviceGuard: DeviceGuard
    public let runner: any ToolRunner
    public let steps: StepReporter
    public let logger: Logger

    /// The filesystem label the `systemid` boot module mounts.
    public static let label = "SYSTEMID"

    public init(
        device: String, database: SystemIDDatabase, confirm: @escaping @Sendable (String) throws -> Bool,
        temporaryDirectory: String = NSTemporaryDirectory(), deviceGuard: DeviceGuard = DeviceGuard(),
        runner: any ToolRunner = SubprocessToolRunner(), steps: StepReporter = StepReporter(),
        logger: Logger = Logger(label: "icon.systemid")
    ) {
        self.device = device
        self.database = database
        self.confirm = confirm
        self.temporaryDirectory = temporaryDirectory
        self.deviceGuard = deviceGuard
        self.runner = runner
        self.steps = steps
        self.logger = logger
    }

    /// The partition table: one partition from 1 MiB to the end.
    public static func partitionInvocation(device: String) -> ToolInvocation {
        ToolInvocation("parted", ["--script", "--align", "optimal", device, "mklabel", "msdos", "mkpart", "primary", "ext4", "1MiB", "100%"])
    }

    /// Makes the drive.
    ///
    /// - Throws: `.deviceBusy`, `.notConfirmed`, `.toolFailed` naming the command, `.io`
    ///   naming the database or a file, `.exhausted`.
    @discardableResult
    public func run() async throws -> Result {
        let target = try await DiskTarget.inspect(device, deviceGuard: deviceGuard, runner: runner, logger: logger)
        guard try confirm(target.question) else {
            throw IconError(.notConfirmed, "not erasing \(target.path): not confirmed")
        }
        return try await target.withBlockDevice(runner: runner, logger: logger) { blockDevice in
            let partition = PartitionLayout.partitionPath(device: blockDevice, number: 1)
            try await steps.step("partition \(blockDevice)") {
                try await runner.checked(Wipefs.wipeAll(device: blockDevice), logger: logger)
                try await runner.checked(Self.partitionInvocation(device: blockDevice), logger: logger)
                try await DiskTarget.waitForNode(partition)
            }
            try await steps.step("format \(Self.label)") {
                try await runner.checked(Mkfs.ext4(device: partition, label: Self.label), logger: logger)
            }
            return try await TemporaryMount.with(
                device: partition, parent: temporaryDirectory, runner: runner, logger: logger
            ) { mountPoint in
                let id = try await steps.step("allocate id in \(database.path)") { try database.allocate() }
                return try await steps.step("write systemid and SSH host key") {
                    try Self.writeIdentity(id: id, to: mountPoint)
                }
            }
        }
    }

    /// Writes `systemid` and the SSH host key files into `directory`.
    /// - Throws: `.io` naming the file.
    public static func writeIdentity(id: String, to directory: String) throws -> Result {
        try AtomicFile.write(Array("\(id)\n".utf8), to: "\(directory)/systemid", mode: 0o644)
        let key = SSHHostKey(comment: "root@\(id)")
        try key.write(to: directory)
        return Result(id: id, publicKey: key.publicKeyLine.trimmingCharacters(in: .newlines))
    }
}
