/// The `certclient` stock module: at boot, after the system identity drive is mounted,
/// `icon certclient` fetches this machine's own key and certificate into /systemid.
public struct CertclientModule: Sendable {
    public var server: String
    public var caCert: String
    public var clientCert: String
    public var clientKey: String
    public var tag: String
    public var subject: String

    public init(server: String, caCert: String, clientCert: String, clientKey: String, tag: String, subject: String) {
        self.server = server
        self.caCert = caCert
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.tag = tag
        self.subject = subject
    }

    /// The unit's name; the tag is part of it so the module can run once per tag.
    public var unitName: String { "icon-certclient-\(tag).service" }
    var directory: String { "/etc/icon/certclient-\(tag)" }

    public func command() -> [String] {
        [
            IconographModule.binaryPath, "certclient", "--server", server, "--https-ca-cert", "\(directory)/ca.pem",
            "--https-client-cert", "\(directory)/client.pem", "--https-client-key", "\(directory)/client.key",
            "--tag", tag, "--subject", subject,
        ]
    }

    public func apply(to context: ModuleContext, binary: String = "/proc/self/exe") throws {
        try SystemdUnit.checkName(unitName)
        let unit = try SystemdUnit.oneshot(
            description: "Iconograph: fetch the \(tag) certificate into /systemid",
            command: command(),
            unitSection: [
                "Wants=network-online.target", "After=network-online.target \(SystemIDModule.unitName)",
                "RequiresMountsFor=/systemid",
            ])
        try context.copyFile(from: binary, to: IconographModule.binaryPath, mode: 0o755)
        try context.copyFile(from: caCert, to: "\(directory)/ca.pem")
        try context.copyFile(from: clientCert, to: "\(directory)/client.pem")
        try context.copyFile(from: clientKey, to: "\(directory)/client.key", mode: 0o600)
        try context.writeFile("/etc/systemd/system/\(unitName)", text: unit)
        try context.enableUnit(unitName)
    }
}
