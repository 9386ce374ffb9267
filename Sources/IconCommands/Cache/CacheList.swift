public import ArgumentParser
import Foundation
import IconBuild

/// `icon cache list`: one line per cached root.
public struct CacheList: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the cached roots, newest first.",
        discussion: """
            Prints the key, size and modification time of each cached root.

            Example:
              icon cache list --cache-dir /var/cache/iconograph
            """
    )

    @OptionGroup var cache: CacheDirectoryOption

    public init() {}

    public func run() async throws {
        let entries = StageCache(directory: cache.cacheDir).entries()
        if entries.isEmpty {
            BuildImage.say("no cached roots in \(cache.cacheDir)")
        }
        for entry in entries {
            let size = ByteCountFormatter.string(fromByteCount: entry.size, countStyle: .binary)
            BuildImage.say("\(entry.key)  \(size)  \(ISO8601DateFormatter().string(from: entry.modified))")
        }
    }
}
