/// The `autoimage` stock module: an installer image that runs `icon image --yes` on boot,
/// erasing `--device` and putting the image from `--base-url` on it.
public struct AutoimageModule: Sendable {
    public var baseURL: String
    /// Host path of the manifest signing CA.
    public var caCert: String
    public var device: String
    public var persistentPercent: Int
    public var imageType: String?
    public var httpsCACert: String?
    public var httpsClientCert: String?
    public var httpsClientKey: String?

    public init(
        baseURL: String, caCert: String, device: String, persistentPercent: Int = 0, imageType: String? = nil,
        httpsCACert: String? = nil, httpsClientCert: String? = nil, httpsClientKey: String? = nil
    ) {
        self.baseURL = baseURL
        self.caCert = caCert
        self.device = device
        self.persistentPercent = persistentPercent
        self.imageType = imageType
        self.httpsCACert = httpsCACert
        self.httpsClientCert = httpsClientCert
        self.httpsClientKey = httpsClientKey
    }

    public static let unitName = "icon-autoimage.service"
    static let directory = "/etc/icon/autoimage"

    /// The `icon image` command the unit runs, with the in-image paths of the copied files.
    public func command() -> [String] {
        var words = [
            IconographModule.binaryPath, "image", "--yes", "--device", device, "--base-url", baseURL,
            "--ca-cert", "\(Self.directory)/ca.pem", "--persistent-percent", String(persistentPercent),
        ]
        if let imageType { words += ["--image-type", imageType] }
        if httpsCACert != nil { words += ["--https-ca-cert", "\(Self.directory)/https-ca.pem"] }
        if httpsClientCert != nil { words += ["--https-client-cert", "\(Self.directory)/client.pem"] }
        if httpsClientKey != nil { words += ["--https-client-key", "\(Self.directory)/client.key"] }
        return words
    }

    /// Writes the files and the unit; needs `icon` in the image (run the `iconograph`
    /// module too, or this module installs the running binary itself).
    public func apply(to context: ModuleContext, binary: String = "/proc/self/exe") throws {
        let unit = try SystemdUnit.oneshot(
            description: "Iconograph: erase \(device) and install an image on it",
            command: command(),
            unitSection: ["Wants=network-online.target", "After=network-online.target"])
        try context.copyFile(from: binary, to: IconographModule.binaryPath, mode: 0o755)
        try context.copyFile(from: caCert, to: "\(Self.directory)/ca.pem")
        if let httpsCACert { try context.copyFile(from: httpsCACert, to: "\(Self.directory)/https-ca.pem") }
        if let httpsClientCert { try context.copyFile(from: httpsClientCert, to: "\(Self.directory)/client.pem") }
        if let httpsClientKey { try context.copyFile(from: httpsClientKey, to: "\(Self.directory)/client.key", mode: 0o600) }
        try context.writeFile("/etc/systemd/system/\(Self.unitName)", text: unit)
        try context.enableUnit(Self.unitName)
    }
}
