public import IconCore

/// Invocations of `mksquashfs`, which packs the finished root into the live filesystem.
public enum Mksquashfs {
    /// The compressors the builder accepts for `--compression`.
    public static let compressors = ["zstd", "xz", "gzip", "lz4", "lzo", "lzma"]

    /// The default compressor, zstd, and its default level, 9: chosen by
    /// `benchmarks/squashfs-compression.sh` on a 652 MiB bookworm root. zstd 9 packs to 32.7 %
    /// of the root with 11 CPU-seconds; mksquashfs's own zstd level (15) saves 4.5 % more for
    /// 7 times the CPU (79 s), which is most of a rebuild's time; level 12 saves nothing over 9;
    /// levels 3 and 6 are 7 % and 1 % larger. xz is 12 % smaller than zstd 9 but takes 13 times
    /// the CPU to pack and 5 times to read (at every boot, on every machine); gzip is larger
    /// and slower at both ends. README, "Building images", has the table.
    public static let defaultCompression = "zstd"
    public static let defaultZstdLevel = 9

    /// The levels each compressor takes (`-Xcompression-level`); compressors not listed take none.
    public static let levels: [String: ClosedRange<Int>] = ["zstd": 1...22, "gzip": 1...9, "lzo": 1...9]

    /// The level used when none is given: `defaultZstdLevel` for zstd, mksquashfs's own otherwise.
    public static func effectiveLevel(compression: String, level: Int?) -> Int? {
        level ?? (compression == "zstd" ? defaultZstdLevel : nil)
    }

    /// Packs `source` into `destination`, replacing any old file.
    ///
    /// - Parameters:
    ///   - compression: one of `compressors`; `defaultCompression` when not given.
    ///   - level: the compression level (see `levels`); nil for `effectiveLevel`'s default.
    ///   - processors: limit of CPUs to use, `nil` for all.
    ///   - sourceDateEpoch: when set, every timestamp in the filesystem is pinned to it so
    ///     the same tree packs to the same bytes.
    public static func invocation(
        source: String, destination: String, compression: String = defaultCompression, level: Int? = nil,
        processors: Int? = nil, sourceDateEpoch: Int? = nil
    ) -> ToolInvocation {
        var arguments = [source, destination, "-noappend", "-comp", compression, "-no-progress"]
        if let level = effectiveLevel(compression: compression, level: level) {
            arguments += ["-Xcompression-level", String(level)]
        }
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
