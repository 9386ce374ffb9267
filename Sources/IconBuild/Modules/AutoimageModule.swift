/// The `autoimage` stock module: an installer image that runs `icon image --yes` on boot,
/// erasing `--device` and putting the image from `--base-url` on it.
public struct AutoimageModule: Sendable {
    /// The host files the module copies into the image for `icon image`.
    public struct Files: Sendable {
        /// Host path of the manifest signing CA.
        public var caCert: String
        public var httpsCACert: String?
        public var httpsClientCert: String?
        public var httpsClientKey: String?

        public init(caCert: String, httpsCACert: String? = nil, httpsClientCert: String? = nil, httpsClientKey: String? = nil) {
            self.caCert = caCert
            self.httpsCACert = httpsCACert
            self.httpsClientCert = httpsClientCert
            self.httpsClientKey = httpsClientKey
        }

        /// `--ca-cert` at its path in the image.
        public var trustArguments: [String] { ["--ca-cert", "\(AutoimageModule.directory)/ca.pem"] }

        /// The TLS file flags that are set, at their paths in the image.
        public var httpsArguments: [String] {
            var words: [String] = []
            if httpsCACert != nil { words += ["--https-ca-cert", "\(AutoimageModule.directory)/https-ca.pem"] }
            if httpsClientCert != nil { words += ["--https-client-cert", "\(AutoimageModule.directory)/client.pem"] }
            if httpsClientKey != nil { words += ["--https-client-key", "\(AutoimageModule.directory)/client.key"] }
            return words
        }
    }

    /// The device the unit erases, for its description.
    public var device: String
    public var files: Files
    /// The arguments of `icon image`, checked and rendered by the command that owns its flags
    /// (`icon module autoimage`), with the in-image paths of ``files`` among them.
    public var imageArguments: [String]

    public init(device: String, files: Files, imageArguments: [String]) {
        self.device = device
        self.files = files
        self.imageArguments = imageArguments
    }

    public static let unitName = "icon-autoimage.service"
    static let directory = "/etc/icon/autoimage"

    /// The `icon image` command the unit runs.
    public func command() -> [String] {
        [IconographModule.binaryPath, "image", "--yes"] + imageArguments
    }

    /// Writes the files and the unit; needs `icon` in the image (run the `iconograph`
    /// module too, or this module installs the running binary itself).
    public func apply(to context: ModuleContext, binary: IconBinaryInstaller = IconBinaryInstaller()) async throws {
        let unit = try SystemdUnit.oneshot(
            description: "Iconograph: erase \(device) and install an image on it",
            command: command(),
            unitSection: ["Wants=network-online.target", "After=network-online.target"])
        try await binary.install(into: context)
        try context.copyFile(from: files.caCert, to: "\(Self.directory)/ca.pem")
        if let path = files.httpsCACert { try context.copyFile(from: path, to: "\(Self.directory)/https-ca.pem") }
        if let path = files.httpsClientCert { try context.copyFile(from: path, to: "\(Self.directory)/client.pem") }
        if let path = files.httpsClientKey { try context.copyFile(from: path, to: "\(Self.directory)/client.key", mode: 0o600) }
        try context.writeFile("/etc/systemd/system/\(Self.unitName)", text: unit)
        try context.enableUnit(Self.unitName)
    }
}
