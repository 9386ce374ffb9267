import ArgumentParser
import IconCore
import IconProvision

/// The flags of `icon image` that say which disk gets which image, declared once: `icon image`
/// parses them, `icon module autoimage` takes the same flags, checks them with ``check()`` and
/// writes them into its unit with ``arguments(trust:https:)``.
struct ImagerOptions: ParsableArguments, Equatable {
    @Option(help: ArgumentHelp("Block device or disk image file to erase and image.", valueName: "device"))
    var device: String

    @Option(help: ArgumentHelp("Percent of the disk for the PERSISTENT partition (0 = none, up to 99).", valueName: "percent"))
    var persistentPercent: Int = 0

    @Option(help: ArgumentHelp(
        "Image directory URL (manifest.json and <timestamp>.iso), or a server URL with --image-type.", valueName: "url"))
    var baseUrl: String

    @Option(help: ArgumentHelp("Image type; appends '/image/<type>' to --base-url.", valueName: "type"))
    var imageType: String?

    @Option(help: ArgumentHelp("Firmware the disk boots with: bios, uefi or both.", valueName: "firmware"))
    var firmware: String = "bios"

    init() {}

    /// The `--firmware` value.
    ///
    /// - Throws: `.invalidArgument` for anything but bios, uefi or both.
    func firmwareValue() throws -> Firmware {
        guard let value = Firmware(rawValue: firmware) else {
            throw IconError(.invalidArgument, "--firmware must be bios, uefi or both, not '\(firmware)'")
        }
        return value
    }

    /// Refuses values `icon image` cannot run with.
    ///
    /// - Throws: `.invalidArgument` naming the flag.
    func check() throws {
        _ = try firmwareValue()
        try DiskImagerConfiguration.validate(persistentPercent: persistentPercent)
    }

    /// These options as `icon image` arguments, with `trust` (the `--ca-cert` words) after
    /// `--base-url` and `https` (the TLS file words) last; `--firmware` only when not bios.
    /// Parsing the result (with those words) gives these options back.
    func arguments(trust: [String] = [], https: [String] = []) -> [String] {
        var words = ["--device", device, "--base-url", baseUrl] + trust + ["--persistent-percent", String(persistentPercent)]
        if let imageType { words += ["--image-type", imageType] }
        if firmware != "bios" { words += ["--firmware", firmware] }
        return words + https
    }

    static func == (lhs: ImagerOptions, rhs: ImagerOptions) -> Bool {
        lhs.device == rhs.device && lhs.persistentPercent == rhs.persistentPercent && lhs.baseUrl == rhs.baseUrl
            && lhs.imageType == rhs.imageType && lhs.firmware == rhs.firmware
    }
}
