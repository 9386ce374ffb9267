public import Foundation
import IconCore

/// How long a newly signed manifest is good for and the version floor it carries: what
/// `icon publish` and `icon rollout` write into `expires` and `min_timestamp`.
public struct ManifestValidity: Hashable, Sendable {
    /// Seconds from signing until machines refuse the manifest; nil never expires (the
    /// original's behaviour).
    public var lifetime: Int?
    /// A new version floor; nil keeps the floor of the previous manifest (a floor only rises).
    public var minTimestamp: Int?

    public init(lifetime: Int?, minTimestamp: Int? = nil) {
        self.lifetime = lifetime
        self.minTimestamp = minTimestamp
    }

    /// No expiry and no new floor: manifests as the original writes them.
    public static let never = ManifestValidity(lifetime: nil)

    /// `icon publish`'s default lifetime: 30 days.
    public static let defaultLifetime = 30 * 86_400

    /// Parses a lifetime as `--expires-in` takes it: a whole number with a unit (`90s`, `45m`,
    /// `12h`, `7d`, `2w`), or `never`.
    ///
    /// - Returns: the seconds, or nil for `never`.
    /// - Throws: `IconError.Code.invalidArgument` naming `flag`.
    public static func parseLifetime(_ text: String, flag: String = "--expires-in") throws -> Int? {
        if text == "never" { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let factor = units[unit], let count = Int(text.dropLast()),
            text.dropLast().allSatisfy(\.isASCII), count > 0
        else {
            throw IconError(
                .invalidArgument,
                "\(flag) takes a positive whole number with a unit (90s, 45m, 12h, 7d, 2w) or never, got \"\(text)\"")
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: factor)
        // Ten thousand years is a manifest that never expires in all but name.
        guard !overflow, seconds <= 10_000 * 365 * 86_400 else {
            throw IconError(.invalidArgument, "\(flag) \(text) is too long; say never for a manifest that never expires")
        }
        return seconds
    }

    /// The floor a new manifest carries: `minTimestamp` when given, else the previous
    /// manifest's. Checked before any image is hashed.
    ///
    /// - Parameters:
    ///   - previous: the directory's previous manifest; a new floor may not go below its floor.
    ///   - newestImage: the newest image the new manifest lists; a floor above it would leave
    ///     machines nothing to switch to.
    /// - Throws: `IconError.Code.invalidArgument` naming `--min-timestamp`.
    public func floor(previous: Manifest?, newestImage: Int, imageDirectory: String) throws -> Int? {
        let previousFloor = previous?.minTimestamp
        guard let floor = minTimestamp else { return previousFloor }
        guard floor >= 0 else {
            throw IconError(.invalidArgument, "--min-timestamp must be a Unix time (0 or more), got \(floor)")
        }
        if let previousFloor, floor < previousFloor {
            throw IconError(
                .invalidArgument,
                "--min-timestamp \(floor) is below the floor \(previousFloor) that \(imageDirectory)/"
                    + "\(ManifestBuilder.unsignedFileName) already has; a floor only rises (machines keep the highest they saw)")
        }
        guard floor <= newestImage else {
            throw IconError(
                .invalidArgument,
                "--min-timestamp \(floor) is newer than every image in \(imageDirectory) (the newest is \(newestImage)); "
                    + "machines would have no image to switch to")
        }
        return floor
    }

    /// When a manifest signed at `now` expires; nil when it never does.
    public func expires(signedAt now: Date) -> Int? {
        lifetime.map { Int(now.timeIntervalSince1970.rounded(.down)) + $0 }
    }
}
