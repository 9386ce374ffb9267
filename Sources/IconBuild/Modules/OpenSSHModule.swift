/// The `openssh` stock module: installs openssh-server and makes it use the system identity
/// drive's host key when the drive has one, so a machine keeps its SSH identity across images.
public struct OpenSSHModule: Sendable {
    public init() {}

    public static let dropInPath = "/etc/ssh/sshd_config.d/icon-systemid.conf"

    /// sshd ignores a missing HostKey file with an error in the log but still starts with the
    /// others; the image's own keys stay listed as a fallback.
    public static let dropIn = """
        # Written by icon module openssh: the host key from the system identity drive, if present.
        HostKey /systemid/ssh_host_ed25519_key
        HostKey /etc/ssh/ssh_host_ed25519_key
        HostKey /etc/ssh/ssh_host_rsa_key
        HostKey /etc/ssh/ssh_host_ecdsa_key

        """

    public static let unitDropInPath = "/etc/systemd/system/ssh.service.d/icon-systemid.conf"

    /// sshd must start after /systemid is mounted (when the drive is there) to see the key.
    public static let unitDropIn = """
        # Written by icon module openssh.
        [Unit]
        After=local-fs.target systemid.mount

        """

    public func apply(to context: ModuleContext) async throws {
        try await context.installPackages(["openssh-server"])
        try context.writeFile(Self.dropInPath, text: Self.dropIn)
        try context.writeFile(Self.unitDropInPath, text: Self.unitDropIn)
    }
}
