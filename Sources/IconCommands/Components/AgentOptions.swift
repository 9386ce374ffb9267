import ArgumentParser
import IconAgent
import IconCore
import IconManifest

/// The flags of `icon agent` that an image's agent.env carries, declared once: `icon agent`
/// parses them, `icon module iconograph` takes the same flags, checks them with ``check()``
/// and writes them back with ``arguments(placing:)``.
struct AgentOptions: ParsableArguments, Equatable {
    @Option(help: ArgumentHelp("The server's WebSocket URL, wss://host:port (the path /ws/slave is added).", valueName: "url"))
    var server: String

    @Option(help: ArgumentHelp(
        "DNS name to check in the server certificate (and send as SNI) instead of the --server host.",
        valueName: "name"))
    var serverName: String?

    @Option(help: ArgumentHelp(
        "Base URL of this machine's image type (default: https://<server host:port>/image/<image type>).",
        valueName: "url"))
    var baseURL: String?

    @Option(help: ArgumentHelp("Image type to follow and report (default: image_type from --running-image-file).", valueName: "type"))
    var imageType: String?

    @Option(help: ArgumentHelp("Number of recent images to keep; 0 keeps all.", valueName: "n"))
    var maxImages: Int = Self.defaultMaxImages

    @Option(help: ArgumentHelp(
        "Boot tries a newly fetched image gets before GRUB falls back to the last good image (1 to 9).", valueName: "n"))
    var bootTries: Int = Self.defaultBootTries

    @Option(help: ArgumentHelp("Seconds of uptime before the running image may be marked good.", valueName: "seconds"))
    var goodAfter: Int = Self.defaultGoodAfter

    @Option(help: ArgumentHelp(
        "Executable (absolute path, no shell) that must exit 0 before the running image is marked good; none by default.",
        valueName: "path"))
    var healthCommand: String?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("One argument of --health-command (taken as is, even when it starts with -); repeat for several.", valueName: "word"))
    var healthArg: [String] = []

    @Option(help: ArgumentHelp(
        "Seconds of uptime by which the health command must have succeeded; a pending image that has not is abandoned by rebooting.",
        valueName: "seconds"))
    var healthTimeout: Int = Self.defaultHealthTimeout

    @Option(help: ArgumentHelp(
        "Valid signatures from distinct signers a manifest needs (icon publish with several --cert/--key pairs).",
        valueName: "n"))
    var signatureThreshold: Int = Self.defaultSignatureThreshold

    init() {}

    /// Refuses values the agent cannot run with.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func check() throws {
        guard maxImages >= 0 else { throw IconError(.invalidArgument, "--max-images must be 0 or more, not \(maxImages)") }
        try bootGuard(bootDir: "/", imageDir: "/", runningImageFile: "/").validate()
        _ = try healthCommandWords()
        try SignatureThreshold.check(signatureThreshold)
    }

    /// The boot-safety settings for a machine whose BOOT partition is `bootDir`.
    func bootGuard(bootDir: String, imageDir: String, runningImageFile: String) -> BootGuardConfiguration {
        BootGuardConfiguration(
            bootDir: bootDir, imageDir: imageDir, runningImageFile: runningImageFile, bootTries: bootTries,
            goodAfter: .seconds(goodAfter), healthTimeout: .seconds(healthTimeout))
    }

    /// `--health-command` and its `--health-arg`s.
    ///
    /// - Throws: `.invalidArgument` for arguments without a command or a relative path.
    func healthCommandWords() throws -> [String] {
        if let healthCommand, !healthCommand.hasPrefix("/") {
            throw IconError(.invalidArgument, "--health-command \(healthCommand) must be an absolute path (no shell runs it)")
        }
        return try IconCommands.healthCommandWords(command: healthCommand, arguments: healthArg)
    }

    /// These options as `icon agent` arguments: the flags whose value differs from the
    /// default, with `files` (the agent's file flags) after the server's. Parsing the result
    /// (with `files`) gives these options back.
    func arguments(placing files: [String] = []) -> [String] {
        var words = ["--server", server]
        if let serverName { words += ["--server-name", serverName] }
        if let baseURL { words += ["--base-url", baseURL] }
        words += files
        if let imageType { words += ["--image-type", imageType] }
        if maxImages != Self.defaultMaxImages { words += ["--max-images", String(maxImages)] }
        if bootTries != Self.defaultBootTries { words += ["--boot-tries", String(bootTries)] }
        if goodAfter != Self.defaultGoodAfter { words += ["--good-after", String(goodAfter)] }
        if healthTimeout != Self.defaultHealthTimeout { words += ["--health-timeout", String(healthTimeout)] }
        if let healthCommand { words += ["--health-command", healthCommand] }
        words += healthArg.flatMap { ["--health-arg", $0] }
        if signatureThreshold != Self.defaultSignatureThreshold { words += ["--signature-threshold", String(signatureThreshold)] }
        return words
    }

    /// The values `icon agent` uses when a flag is not given.
    static let defaultMaxImages = 5
    static let defaultBootTries = 1
    static let defaultGoodAfter = 60
    static let defaultHealthTimeout = 300
    static let defaultSignatureThreshold = 1

    static func == (lhs: AgentOptions, rhs: AgentOptions) -> Bool {
        lhs.server == rhs.server && lhs.serverName == rhs.serverName && lhs.baseURL == rhs.baseURL
            && lhs.imageType == rhs.imageType && lhs.maxImages == rhs.maxImages && lhs.bootTries == rhs.bootTries
            && lhs.goodAfter == rhs.goodAfter && lhs.healthCommand == rhs.healthCommand
            && lhs.healthArg == rhs.healthArg && lhs.healthTimeout == rhs.healthTimeout
            && lhs.signatureThreshold == rhs.signatureThreshold
    }
}

/// `--signature-threshold`, for `icon fetch` and the agent.
enum SignatureThreshold {
    /// - Throws: `.invalidArgument` naming the flag for a threshold below 1 or above what a
    ///   manifest can carry.
    static func check(_ threshold: Int) throws {
        guard (1...SignedManifest.maxSignatures).contains(threshold) else {
            throw IconError(
                .invalidArgument,
                "--signature-threshold must be between 1 and \(SignedManifest.maxSignatures) (the most signatures a manifest carries), "
                    + "got \(threshold)")
        }
    }
}
