import ArgumentParser
import IconManifest

/// `--expires-in`, shared by `icon publish` and `icon rollout`: how long the manifest they sign
/// is good for. Machines refuse it afterwards (code `expired`), so a stale or replayed manifest
/// ages out; signing again (either command, or a timer running `icon publish`) extends it.
struct ExpiryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How long machines accept the signed manifest: a number with a unit (90s, 45m, 12h, 7d, 2w), or never "
                + "(the original's manifests, valid forever).",
            valueName: "duration"))
    var expiresIn = "30d"

    /// The lifetime in seconds; nil for `never`. Read before anything is touched.
    ///
    /// - Throws: `IconError.Code.invalidArgument` naming `--expires-in`.
    func lifetime() throws -> Int? {
        try ManifestValidity.parseLifetime(expiresIn)
    }
}
