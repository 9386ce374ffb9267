import Foundation
import IconCore

/// The `iconograph` stock module: installs `icon` and its agent so the image updates itself.
///
/// Installs the release `icon` binary (see ``IconBinaryInstaller``; the command is
/// /usr/local/bin/icon), the CA and client files to /etc/icon,
/// writes /etc/icon/agent.env with the agent's flags, installs and enables
/// `icon-agent.service` and the BOOT mount (see ``BootMount``).
public struct IconographModule: Sendable {
    /// Host path of the manifest signing CA.
    public var caCert: String
    public var httpsCACert: String
    public var httpsClientCert: String
    public var httpsClientKey: String
    /// The `icon` binary to install (default: the running one).
    public var binary: IconBinaryInstaller
    /// The arguments of `icon agent` for agent.env, checked and rendered by the command that
    /// owns the agent's flags (`icon module iconograph`), with ``installedFileArguments`` among them.
    public var agentArguments: [String]

    public init(
        caCert: String, httpsCACert: String, httpsClientCert: String, httpsClientKey: String,
        agentArguments: [String], binary: IconBinaryInstaller = IconBinaryInstaller()
    ) {
        self.caCert = caCert
        self.httpsCACert = httpsCACert
        self.httpsClientCert = httpsClientCert
        self.httpsClientKey = httpsClientKey
        self.agentArguments = agentArguments
        self.binary = binary
    }

    /// Where the files go in the image.
    public static let binaryPath = IconBinaryInstaller.commandPath
    public static let configDirectory = "/etc/icon"
    /// Where BootMount puts the BOOT partition, and the image directory on it.
    public static let bootDirectory = "/boot"
    public static let imageDirectory = "/boot/iconograph"

    /// The agent's flags for what this module installs, at their paths in the image.
    ///
    /// icon agent has no default boot directory (it must never rewrite a host's own menu): in
    /// an image, the BOOT partition is at /boot (see BootMount).
    public static let installedFileArguments = [
        "--image-dir", imageDirectory,
        "--boot-dir", bootDirectory,
        "--ca-cert", "\(configDirectory)/ca.pem",
        "--https-ca-cert", "\(configDirectory)/https-ca.pem",
        "--https-client-cert", "\(configDirectory)/client.pem",
        "--https-client-key", "\(configDirectory)/client.key",
    ]

    /// The `ICON_AGENT_ARGS=` line of /etc/icon/agent.env, its value shell-quoted as a whole.
    ///
    /// Two readers see this file: systemd (`EnvironmentFile=`, which strips the quotes and
    /// splits `$ICON_AGENT_ARGS` at whitespace without any further expansion) and a shell that
    /// sources it. A single-quoted value means the same to both, and `$(...)`, `&`, `;` stay
    /// data. A flag value with whitespace, a quote or a backslash could not survive systemd's
    /// word splitting, so such values are refused rather than passed on mangled.
    ///
    /// - Throws: `.invalidArgument` naming the flag of such a value.
    public func agentEnvironment() throws -> String {
        var flag = "icon agent"
        for (index, word) in agentArguments.enumerated() {
            guard index % 2 == 1 else {
                flag = word
                continue
            }
            try SystemdUnit.checkLine(word)
            guard !word.isEmpty, !word.contains(where: { $0.isWhitespace || "'\"\\".contains($0) }) else {
                throw IconError(.invalidArgument, "\(flag) \(word.debugDescription) must not be empty or contain whitespace, quotes or backslashes")
            }
        }
        let value = ShellQuote.quote(agentArguments.joined(separator: " "))
        return "# Written by icon module iconograph: the flags of icon-agent.service.\nICON_AGENT_ARGS=\(value)\n"
    }

    /// Installs everything; repeating it rewrites the same files.
    public func apply(to context: ModuleContext) async throws {
        let environment = try agentEnvironment()
        try await binary.install(into: context)
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
