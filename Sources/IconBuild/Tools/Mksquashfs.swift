import IconCore

/// Invocations of `mksquashfs`, which packs the finished root into the live filesystem.
public enum Mksquashfs {
    /// The compressors the builder accepts for `--compression`.
    public static let compressors = ["zstd", "xz", "gzip", "lz4", "lzo", "lzma"]

    /// Packs `source` into `destination`, replacing any old file.
    ///
    /// - Parameters:
    ///   - compression: one of `compressors`; zstd is the default (fast to pack and to boot).
    ///   - processors: limit of CPUs to use, `nil` for all.
    ///   - sourceDateEpoch: when set, every timestamp in the filesystem is pinned to it so
    ///     the same tree packs to the same bytes.
    public static func invocation(
        source: String, destination: String, compression: String = "zstd",
        processors: Int? = nil, sourceDateEpoch: Int? = nil
    ) -> ToolInvocation {
        var arguments = [source, destination, "-noappend", "-comp", compression, "-no-progress"]
        if let processors { arguments += ["-processors", String(processors)] }
        // The wildcards match paths at the root of the source: leftovers that must not boot.
        arguments += ["-wildcards", "-e", "proc/*", "sys/*", "dev/pts/*", "run/*", "tmp/*"]
        var environment: [String: String] = [:]
        if let sourceDateEpoch {
            environment["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch)
        }
        return ToolInvocation("mksquashfs", arguments, environment: environment)
    }
}
