public import ArgumentParser
import Foundation
import IconBuild
import IconCore

/// `icon cache prune`: removes old cached roots.
public struct CachePrune: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove cached roots (all of them unless --keep or --older-than-days limits it).",
        discussion: """
            Also removes leftovers of interrupted builds. A root goes when it is beyond the \
            --keep newest or older than --older-than-days.

            Example:
              sudo icon cache prune --keep 2 --older-than-days 30
            """
    )

    @OptionGroup var cache: CacheDirectoryOption

    @Option(help: ArgumentHelp("Keep this many of the newest roots.", valueName: "n"))
    var keep: Int?

    @Option(help: ArgumentHelp("Remove roots last written more than this many days ago.", valueName: "days"))
    var olderThanDays: Double?

    public init() {}

    public func run() async throws {
        if let keep, keep < 0 { throw IconError(.invalidArgument, "--keep \(keep) must not be negative") }
        // With no limit given, prune everything: `--keep 0`.
        let limit = (keep == nil && olderThanDays == nil) ? 0 : keep
        let removed = try StageCache(directory: cache.cacheDir).prune(
            keep: limit, olderThan: olderThanDays.map { $0 * 86_400 })
        for entry in removed { BuildImage.say("removed \(entry.key)") }
        BuildImage.say("removed \(removed.count) cached root(s) from \(cache.cacheDir)")
    }
}
