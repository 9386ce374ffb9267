import IconCore
import IconProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a raw request path into a file on disk, or nothing.
///
/// Everything that could leave `<image-path>/<type>/` is refused before any file is opened:
/// `..` (also percent-encoded), hidden names, unknown types, directories, and symlinks whose
/// real path is not a regular file directly inside the type directory. A symlink inside the type
/// directory pointing at another file directly inside it is served (publishers may alias images).
public struct ImagePathResolver: Sendable {
    /// A file that may be served.
    public struct ResolvedFile: Sendable, Equatable {
        /// Image type from the URL.
        public let imageType: String
        /// File name from the URL (percent-decoded).
        public let fileName: String
        /// Real path of the file to open.
        public let realPath: String
        /// Size in bytes at resolution time.
        public let size: Int
    }

    /// The first path component served, `image` for `/image/<type>/<file>`.
    public let prefix: String
    /// Second path component (image type, or static name) → the directory it serves.
    public let directories: [String: String]
    public var imageTypes: Set<String> { Set(directories.keys) }

    public init(imagePath: String, imageTypes: [String]) {
        self.init(prefix: FleetPaths.imageComponent, directories: Dictionary(imageTypes.map { ($0, imagePath + "/" + $0) }) { first, _ in first })
    }

    /// A resolver for `/<prefix>/<name>/<file>`, each name serving its own directory
    /// (`--static-path name=dir` uses this with the prefix `static`).
    public init(prefix: String, directories: [String: String]) {
        self.prefix = prefix
        self.directories = directories
    }

    /// Resolves a raw URL path such as `/image/demo/1700000000.iso`.
    ///
    /// - Returns: the file to serve, or `nil` when the answer must be 404.
    public func resolve(rawPath: String) -> ResolvedFile? {
        // Split the raw (still encoded) path ourselves: the router must not be the only guard.
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1] == prefix else { return nil }
        guard let type = Self.percentDecode(parts[2]), let name = Self.percentDecode(parts[3]) else { return nil }
        guard let directory = directories[type], Self.isSafeComponent(name) else { return nil }
        guard let typeDir = Self.realPath(directory) else { return nil }
        guard let real = Self.realPath(typeDir + "/" + name) else { return nil }
        // The real path must sit directly in the (real) type directory.
        guard let slash = real.lastIndex(of: "/"), real[..<slash] == typeDir[...] else { return nil }
        let realName = String(real[real.index(after: slash)...])
        guard Self.isSafeComponent(realName) else { return nil }
        guard let size = RegularFile.size(atPath: real, followingLinks: true) else { return nil }
        return ResolvedFile(imageType: type, fileName: name, realPath: real, size: size)
    }

    /// Whether `name` is usable as one path component: not empty, not hidden (so not `.`/`..`),
    /// no slash, backslash or NUL.
    public static func isSafeComponent(_ name: String) -> Bool {
        guard let first = name.first, first != "." else { return false }
        return !name.contains { $0 == "/" || $0 == "\\" || $0 == "\0" }
    }

    /// Decodes `%XX` escapes; `nil` for a malformed escape or bytes that are not UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `realpath(3)`, or `nil` when the path does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
