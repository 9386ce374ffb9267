import Foundation
public import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// What an image directory holds for a manifest: the `<digits>.iso` images, the `.iso`
/// files that cannot be published and why, and subdirectories that hold images (an
/// `--image-dir` one level too high, above the `<image-path>/<type>/` of `icon build-image`).
public struct ImageScan: Sendable {
    /// An `.iso` file left out of the manifest.
    public struct Skipped: Sendable, Hashable {
        /// The file's path.
        public var path: String
        /// Why it is left out and how to fix it, as a phrase.
        public var reason: String
    }

    public let directory: String
    /// Timestamps of the publishable images, in directory order.
    public var timestamps: [Int]
    /// `.iso` files that are not images, sorted by name.
    public var skipped: [Skipped]
    /// Subdirectories holding `<digits>.iso` files, sorted.
    public var imageSubdirectories: [String]

    /// The reason given for an `.iso` file with another name.
    public static let misnamedReason = "the name must be <digits>.iso (a Unix timestamp in seconds), "
        + "rename it to <unix-timestamp>.iso"

    /// Scans `directory`. Hidden files (temp files of downloads and atomic writes) and files
    /// not ending in `.iso` are ignored; an `.iso` that is not a regular file (a FIFO, a
    /// device) is skipped without being opened.
    ///
    /// - Throws: `IconError.Code.notFound` / `.io` naming the directory.
    public init(directory: String) throws {
        self.directory = directory
        let names = try Self.list(directory)
        var timestamps: [Int] = []
        var skipped: [Skipped] = []
        var subdirectories: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if name.lowercased().hasSuffix(".iso") {
                    skipped.append(Skipped(path: path, reason: "it is a directory, not an ISO file"))
                } else if Self.holdsImages(path) {
                    subdirectories.append(path)
                }
                continue
            }
            let isISO = name.lowercased().hasSuffix(".iso")
            if isISO, let kind = Self.nonRegularKind(path) {
                // Never opened: a FIFO would hang the hash, a device never end.
                skipped.append(Skipped(path: path, reason: "it is \(kind), not a regular file"))
                continue
            }
            if let timestamp = ManifestBuilder.timestamp(ofFileName: name) {
                timestamps.append(timestamp)
            } else if isISO {
                skipped.append(Skipped(path: path, reason: Self.misnamedReason))
            }
        }
        self.timestamps = timestamps
        self.skipped = skipped
        self.imageSubdirectories = subdirectories
    }

    /// The refusal for a scan without images: names the directory, the skipped files and
    /// the subdirectories that hold images. `.invalidArgument` when `.iso` files were
    /// skipped, else `.notFound`.
    public var noImagesError: IconError {
        let misnamed = skipped.filter { $0.reason == Self.misnamedReason }.map { ($0.path as NSString).lastPathComponent }
        var parts: [String] = []
        if let example = misnamed.first {
            parts.append(
                "skipped \(misnamed.joined(separator: ", ")) (names must be <digits>.iso, "
                    + "e.g. rename \(example) to <unix-timestamp>.iso)")
        }
        parts += skipped.filter { $0.reason != Self.misnamedReason }.map {
            "skipped \(($0.path as NSString).lastPathComponent) (\($0.reason))"
        }
        if !imageSubdirectories.isEmpty {
            parts.append("did you mean " + imageSubdirectories.map { "--image-dir \($0)" }.joined(separator: " or ") + "?")
        } else if skipped.isEmpty {
            parts.append("it holds no <unix-timestamp>.iso file (icon build-image writes <image-path>/<type>/<timestamp>.iso)")
        }
        return IconError(
            skipped.isEmpty ? .notFound : .invalidArgument,
            "no images to publish in \(directory), so nothing was written: " + parts.joined(separator: "; "))
    }

    static func list(_ directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IconError(.notFound, "image directory \(directory) does not exist")
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw IconError(.io, "cannot list image directory \(directory)", cause: error)
        }
    }

    /// What `path` is when it (or, for a symlink, its target: the server serves symlinked
    /// images) is not a regular file; nil for one.
    static func nonRegularKind(_ path: String) -> String? {
        guard let kind = RegularFile.otherKind(atPath: path) else { return nil }
        guard kind == "a symbolic link" else { return kind }
        var info = stat()
        guard stat(path, &info) == 0 else { return "a dangling symbolic link" }
        return (info.st_mode & S_IFMT) == S_IFREG ? nil : "a symbolic link to something other than a file"
    }

    /// Whether `directory` directly holds a `<digits>.iso` file.
    static func holdsImages(_ directory: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.contains { ManifestBuilder.timestamp(ofFileName: $0) != nil }
    }
}
