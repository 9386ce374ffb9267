/// The `certclient` stock module: at boot, after the system identity drive is mounted,
/// `icon certclient` fetches this machine's own key and certificate into /systemid.
public struct CertclientModule: Sendable {
    public var caCert: String
    public var clientCert: String
    public var clientKey: String
    /// The tag, which names the unit and the directory of the copied files.
    public var tag: String
    /// The arguments of `icon certclient`, checked and rendered by the command that owns its
    /// flags (`icon module certclient`), with ``installedFileArguments(tag:)`` among them.
    public var clientArguments: [String]

    public init(caCert: String, clientCert: String, clientKey: String, tag: String, clientArguments: [String]) {
        self.caCert = caCert
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.tag = tag
        self.clientArguments = clientArguments
    }

    /// The unit's name; the tag is part of it so the module can run once per tag.
    public var unitName: String { "icon-certclient-\(tag).service" }
    var directory: String { Self.directory(tag: tag) }
    static func directory(tag: String) -> String { "/etc/icon/certclient-\(tag)" }

    /// The certclient's TLS file flags, at their paths in the image.
    public static func installedFileArguments(tag: String) -> [String] {
        let directory = directory(tag: tag)
        return [
            "--https-ca-cert", "\(directory)/ca.pem", "--https-client-cert", "\(directory)/client.pem",
            "--https-client-key", "\(directory)/client.key",
        ]
    }

    public func command() -> [String] {
        [IconographModule.binaryPath, "certclient"] + clientArguments
    }

    public func apply(to context: ModuleContext, binary: IconBinaryInstaller = IconBinaryInstaller()) async throws {
        try SystemdUnit.checkName(unitName)
        let unit = try SystemdUnit.oneshot(
            description: "Iconograph: fetch the \(tag) certificate into /systemid",
            command: command(),
            unitSection: [
                "Wants=network-online.target", "After=network-online.target \(SystemIDModule.unitName)",
                "RequiresMountsFor=/systemid",
            ])
        try await binary.install(into: context)
        try context.copyFile(from: caCert, to: "\(directory)/ca.pem")
        try context.copyFile(from: clientCert, to: "\(directory)/client.pem")
        try context.copyFile(from: clientKey, to: "\(directory)/client.key", mode: 0o600)
        try context.writeFile("/etc/systemd/system/\(unitName)", text: unit)
        try context.enableUnit(unitName)
    }
}
