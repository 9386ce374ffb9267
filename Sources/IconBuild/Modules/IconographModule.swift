import Foundation
import IconCore

/// The `iconograph` stock module: installs `icon` and its agent so the image updates itself.
///
/// Installs the `icon` binary with the Swift libraries it needs (see ``IconBinaryInstaller``;
/// the command is /usr/local/bin/icon), the CA and client files to /etc/icon,
/// writes /etc/icon/agent.env with the agent's flags, installs and enables
/// `icon-agent.service` and the BOOT mount (see ``BootMount``).
public struct IconographModule: Sendable {
    /// The server's WebSocket URL (`wss://host:port`).
    public var server: String
    public var serverName: String?
    public var baseURL: String?
    /// Host path of the manifest signing CA.
    public var caCert: String
    public var httpsCACert: String
    public var httpsClientCert: String
    public var httpsClientKey: String
    public var imageType: String?
    public var maxImages: Int?
    /// Host path of the `icon` binary to install (default: the running one).
    public var binary: String
    /// Boot safety (nil = the agent's default): boot tries of a new image.
    public var bootTries: Int?
    /// Seconds of uptime before the running image may be marked good.
    public var goodAfter: Int?
    /// The health command: an absolute executable path and its arguments, no shell. Each
    /// word becomes `--health-command` (the first) or one `--health-arg`.
    public var healthCommand: [String]
    /// Seconds of uptime by which the health command must have succeeded.
    public var healthTimeout: Int?

    public init(
        server: String, serverName: String? = nil, baseURL: String? = nil, caCert: String, httpsCACert: String,
        httpsClientCert: String, httpsClientKey: String, imageType: String? = nil, maxImages: Int? = nil,
        binary: String = "/proc/self/exe", bootTries: Int? = nil, goodAfter: Int? = nil,
        healthCommand: [String] = [], healthTimeout: Int? = nil
    ) {
        self.bootTries = bootTries
        self.goodAfter = goodAfter
        self.healthCommand = healthCommand
        self.healthTimeout = healthTimeout
        self.server = server
        self.serverName = serverName
        self.baseURL = baseURL
        self.caCert = caCert
        self.httpsCACert = httpsCACert
        self.httpsClientCert = httpsClientCert
        self.httpsClientKey = httpsClientKey
        self.imageType = imageType
        self.maxImages = maxImages
        self.binary = binary
    }

    /// Where the files go in the image.
    public static let binaryPath = IconBinaryInstaller.commandPath
    public static let configDirectory = "/etc/icon"
    /// Where BootMount puts the BOOT partition, and the image directory on it.
    public static let bootDirectory = "/boot"
    public static let imageDirectory = "/boot/iconograph"

    /// The `ICON_AGENT_ARGS=` line of /etc/icon/agent.env, its value shell-quoted as a whole.
    ///
    /// Two readers see this file: systemd (`EnvironmentFile=`, which strips the quotes and
    /// splits `$ICON_AGENT_ARGS` at whitespace without any further expansion) and a shell that
    /// sources it. A single-quoted value means the same to both, and `$(...)`, `&`, `;` stay
    /// data. A flag value with whitespace, a quote or a backslash could not survive systemd's
    /// word splitting, so such values are refused rather than passed on mangled.
    public func agentEnvironment() throws -> String {
        var flags: [(String, String)] = [("--server", server)]
        if let serverName { flags.append(("--server-name", serverName)) }
        if let baseURL { flags.append(("--base-url", baseURL)) }
        // icon agent has no default boot directory (it must never rewrite a host's own
        // menu): in an image, the BOOT partition is at /boot (see BootMount).
        flags += [
            ("--image-dir", Self.imageDirectory),
            ("--boot-dir", Self.bootDirectory),
            ("--ca-cert", "\(Self.configDirectory)/ca.pem"),
            ("--https-ca-cert", "\(Self.configDirectory)/https-ca.pem"),
            ("--https-client-cert", "\(Self.configDirectory)/client.pem"),
            ("--https-client-key", "\(Self.configDirectory)/client.key"),
        ]
        if let imageType { flags.append(("--image-type", imageType)) }
        if let maxImages {
            guard maxImages >= 0 else { throw IconError(.invalidArgument, "--max-images must be 0 or more, not \(maxImages)") }
            flags.append(("--max-images", String(maxImages)))
        }
        flags += try bootSafetyFlags()
        var words: [String] = []
        for (flag, value) in flags {
            try SystemdUnit.checkLine(value)
            guard !value.isEmpty, !value.contains(where: { $0.isWhitespace || "'\"\\".contains($0) }) else {
                throw IconError(.invalidArgument, "\(flag) \(value.debugDescription) must not be empty or contain whitespace, quotes or backslashes")
            }
            words += [flag, value]
        }
        let value = ShellQuote.quote(words.joined(separator: " "))
        return "# Written by icon module iconograph: the flags of icon-agent.service.\nICON_AGENT_ARGS=\(value)\n"
    }

    /// `--boot-tries`, `--good-after`, `--health-timeout`, and the health command as
    /// `--health-command <executable>` plus one `--health-arg <word>` per argument (each word
    /// then passes systemd's word splitting intact; a word with whitespace is refused by
    /// ``agentEnvironment()``, so use a wrapper script for such arguments).
    ///
    /// - Throws: `.invalidArgument` naming the flag for values out of range.
    func bootSafetyFlags() throws -> [(String, String)] {
        var flags: [(String, String)] = []
        if let bootTries {
            guard (1...9).contains(bootTries) else {
                throw IconError(.invalidArgument, "--boot-tries must be 1 to 9, not \(bootTries)")
            }
            flags.append(("--boot-tries", String(bootTries)))
        }
        if let goodAfter {
            guard goodAfter >= 0 else { throw IconError(.invalidArgument, "--good-after must be 0 or more, not \(goodAfter)") }
            flags.append(("--good-after", String(goodAfter)))
        }
        if let healthTimeout {
            guard healthTimeout >= (goodAfter ?? 60) else {
                throw IconError(.invalidArgument, "--health-timeout \(healthTimeout) must be at least --good-after (\(goodAfter ?? 60))")
            }
            flags.append(("--health-timeout", String(healthTimeout)))
        }
        if let executable = healthCommand.first {
            guard executable.hasPrefix("/") else {
                throw IconError(.invalidArgument, "--health-command \(executable.debugDescription) must be an absolute path (no shell runs it)")
            }
            flags.append(("--health-command", executable))
            flags += healthCommand.dropFirst().map { ("--health-arg", $0) }
        }
        return flags
    }

    /// Installs everything; repeating it rewrites the same files.
    public func apply(to context: ModuleContext) async throws {
        let environment = try agentEnvironment()
        try await IconBinaryInstaller().install(binary: binary, into: context)
        try context.copyFile(from: caCert, to: "\(Self.configDirectory)/ca.pem")
        try context.copyFile(from: httpsCACert, to: "\(Self.configDirectory)/https-ca.pem")
        try context.copyFile(from: httpsClientCert, to: "\(Self.configDirectory)/client.pem")
        try context.copyFile(from: httpsClientKey, to: "\(Self.configDirectory)/client.key", mode: 0o600)
        try context.writeFile("\(Self.configDirectory)/agent.env", text: environment, mode: 0o600)
        try context.writeFile("/etc/systemd/system/\(AgentUnit.name)", text: AgentUnit.text)
        try context.enableUnit(AgentUnit.name)
        try context.writeFile(BootMount.scriptPath, text: BootMount.script, mode: 0o755)
        try context.writeFile("/etc/systemd/system/\(BootMount.unitName)", text: BootMount.unit)
        try context.enableUnit(BootMount.unitName)
        // The agent's --boot-dir; the mount point must exist.
        try context.makeDirectory(Self.bootDirectory)
    }
}
