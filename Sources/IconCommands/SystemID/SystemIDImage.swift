public import ArgumentParser
import Foundation
import IconCore
import IconProvision

/// `icon systemid image`: makes a system identity drive (the original's systemid drive).
public struct SystemIDImage: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Erase a drive and make it a SYSTEMID drive with a new id and SSH host key.",
        discussion: """
            Erases --device (a block device, or a disk image file attached to a loop device for \
            the run), writes an msdos partition table with one partition formatted ext4 \
            LABEL=SYSTEMID, picks a random 6-hex-digit id not yet in <db-dir>/systemids (one id \
            per line, updated atomically under a lock, so parallel runs never share an id) and \
            writes on the drive:
              systemid                   the id and a newline
              ssh_host_ed25519_key       OpenSSH private host key, mode 0600
              ssh_host_ed25519_key.pub   its public key, comment root@<id>
            A device that is mounted or holds the running system is refused; the command asks \
            before erasing unless --yes. Prints the new id. Needs root.

            Example:
              sudo icon systemid image --device /dev/sdy \\
                --db-dir /var/lib/iconograph --yes
            """
    )

    @Option(help: ArgumentHelp("Block device or disk image file to erase.", valueName: "device"))
    var device: String

    @Option(help: ArgumentHelp("Directory of the id database (<db-dir>/systemids); created if missing.", valueName: "dir"))
    var dbDir: String

    @Flag(help: "Erase without asking.")
    var yes = false

    public init() {}

    public func run() async throws {
        let imager = SystemIDImager(
            device: device, database: SystemIDDatabase(directory: dbDir),
            confirm: EraseConfirmation.make(yes: yes, device: device),
            steps: StepReporter(report: EraseConfirmation.printStep))
        let result = try await imager.run()
        EraseConfirmation.printStep("\(device): system id \(result.id), host key \(result.publicKey)")
    }
}
