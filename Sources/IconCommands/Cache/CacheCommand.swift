public import ArgumentParser

/// `icon cache`: the image builder's stage cache.
public struct CacheCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List and prune the image builder's cache of bootstrapped roots.",
        discussion: """
            build-image keeps each bootstrapped root as a tarball keyed by release, arch, \
            archive, flavor, package set and builder version, so rebuilds with other modules \
            skip the bootstrap.

            Example:
              icon cache list
              sudo icon cache prune --keep 2
            """,
        subcommands: [CacheList.self, CachePrune.self]
    )

    public init() {}
}

/// The flag shared by the cache subcommands.
struct CacheDirectoryOption: ParsableArguments {
    @Option(help: ArgumentHelp("Stage cache directory (as given to build-image --cache-dir).", valueName: "dir"))
    var cacheDir: String = "/var/cache/iconograph"
}
