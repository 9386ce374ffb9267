import ArgumentParser
import IconCore
import IconTLS
import IconUpdate

/// A byte count on the command line: digits, optionally followed by K, M, G or T (powers of
/// 1024, with or without `iB`), e.g. `17179869184`, `16G`, `512MiB`.
struct ByteCount: ExpressibleByArgument, Sendable, Equatable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        var text = Substring(argument.uppercased())
        if text.hasSuffix("IB") { text = text.dropLast(2) } else if text.hasSuffix("B") { text = text.dropLast() }
        var shift = 0
        if let unit = text.last, let index = ["K", "M", "G", "T"].firstIndex(of: String(unit)) {
            shift = 10 * (index + 1)
            text = text.dropLast()
        }
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let value = Int(text), value > 0,
            value <= Int.max >> shift
        else { return nil }
        bytes = value << shift
    }

    var defaultValueDescription: String { Self.describe(bytes) }

    /// `16G` for 16 GiB, the exact count otherwise.
    static func describe(_ bytes: Int) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return String(bytes)
    }
}

/// The bounds of `icon fetch`, `icon agent` and `icon image` on what a server sends.
struct DownloadBoundsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Most bytes an image download may have when the manifest gives no size (older manifests); with a size, that is the limit. K, M, G, T suffixes.",
        valueName: "bytes"))
    var maxImageBytes = ByteCount(bytes: FetcherConfiguration.defaultMaxImageBytes)

    @Option(help: ArgumentHelp(
        "Seconds a download may go with less than 64 KiB arriving (a trickling or silent server) before it is cut.",
        valueName: "seconds"))
    var stallTimeout: Int = Int(FetcherConfiguration.defaultStallTimeout.components.seconds)

    /// - Throws: `.invalidArgument` naming the flag.
    func check() throws {
        guard stallTimeout > 0 else {
            throw IconError(.invalidArgument, "--stall-timeout must be at least 1 second, got \(stallTimeout)")
        }
    }

    /// Sets the bounds on a fetch configuration.
    func apply(to configuration: inout FetcherConfiguration) {
        configuration.maxImageBytes = maxImageBytes.bytes
        configuration.stall = StallGuard(window: .seconds(stallTimeout))
    }
}
