import IconCore

/// Invocations of `mksquashfs`, which packs the finished root into the live filesystem.
public enum Mksquashfs {
    /// The compressors the builder accepts for `--compression`.
    public static let compressors = ["zstd", "xz", "gzip", "lz4", "lzo", "lzma"]

    /// The default compressor: zstd at mksquashfs's default level (15), chosen by
    /// `benchmarks/squashfs-compression.sh` on a 652 MiB bookworm root: 31.2 % of the root
    /// for 79 CPU-seconds of packing and the fastest read-back. xz is 8 % smaller but takes
    /// 5 times the CPU to read (at every boot, on every machine); zstd level 3 packs 20 times
    /// faster but is 12 % larger (on every download); level 19 saves 1 % for twice the CPU;
    /// gzip is larger and slower than zstd at both ends. README, "Building images", has the table.
    public static let defaultCompression = "zstd"

    /// Packs `source` into `destination`, replacing any old file.
    ///
    /// - Parameters:
    ///   - compression: one of `compressors`; `defaultCompression` when not given.
    ///   - processors: limit of CPUs to use, `nil` for all.
    ///   - sourceDateEpoch: when set, every timestamp in the filesystem is pinned to it so
    ///     the same tree packs to the same bytes.
    public static func invocation(
        source: String, destination: String, compression: String = defaultCompression,
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
