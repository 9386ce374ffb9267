import Foundation
import IconCore
import IconManifest

#if canImport(Glibc)
import Glibc
#endif

/// The device's image directory: `<timestamp>.iso` files, the stored `manifest.json` and the
/// `current` symlink naming the image the boot menu defaults to.
public struct ImageDirectory: Sendable {
    /// The directory path.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Path of the stored, signed manifest.
    public var manifestPath: String { "\(path)/manifest.json" }
    /// Path of the `current` symlink.
    public var currentLinkPath: String { "\(path)/current" }
    /// Path of the version floor: the highest `min_timestamp` of any manifest stored here.
    public var floorPath: String { "\(path)/min_timestamp" }

    /// The version floor kept here; nil when no stored manifest had one (or the file does not
    /// hold a number: it is written atomically, so only a hand edit gets there, and the next
    /// manifest with a floor rewrites it).
    public func floor() -> Int? {
        guard let data = try? RegularFile.contents(atPath: floorPath) else { return nil }
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Raises the stored floor to `floor`; a lower or equal floor changes nothing.
    ///
    /// - Throws: `.io` naming the file.
    public func raiseFloor(to floor: Int) throws {
        if let stored = self.floor(), stored >= floor { return }
        try AtomicFile.write(Array("\(floor)\n".utf8), to: floorPath, mode: 0o644)
    }

    /// Path of the revocation lists this machine keeps (PEM CRLs, the newest of each issuer).
    public var revocationsPath: String { "\(path)/revocations.pem" }

    /// The revocation lists kept here; none when the file is missing or damaged (it is
    /// written atomically, and each list was checked when it was taken).
    func revocations() -> Revocations {
        guard let data = try? RegularFile.contents(atPath: revocationsPath),
            let lists = try? Revocations.parse(String(decoding: data, as: UTF8.self), source: revocationsPath)
        else { return .none }
        return Revocations(lists: lists)
    }

    /// Replaces the kept revocation lists.
    ///
    /// - Throws: `.io` naming the file.
    func storeRevocations(_ revocations: Revocations) throws {
        try AtomicFile.write(Array(revocations.encoded().utf8), to: revocationsPath, mode: 0o644)
    }

    /// The stored `manifest.json`'s inner manifest, nil if there is none (or it is unreadable:
    /// it was verified when stored, and a damaged copy must not block updates forever).
    func storedManifest() -> Manifest? {
        guard let data = try? RegularFile.contents(atPath: manifestPath),
            let wrapper = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let inner = wrapper["inner"] as? String
        else { return nil }
        return try? Manifest.decode(Data(inner.utf8), source: manifestPath)
    }

    /// When the stored manifest expires (Unix seconds); nil when it never does or there is none.
    public var storedManifestExpires: Int? { storedManifest()?.expires }

    /// The path of the ISO for `timestamp`.
    public func isoPath(_ timestamp: Int) -> String { "\(path)/\(Self.isoName(timestamp))" }

    /// The file name of the ISO for `timestamp`.
    public static func isoName(_ timestamp: Int) -> String { "\(timestamp).iso" }

    /// Creates the directory if it does not exist.
    ///
    /// - Throws: `.io` naming the directory.
    public func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create image directory \(path)", cause: error)
        }
    }

    /// Timestamps of the `<digits>.iso` files present, oldest first.
    public func isoTimestamps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap(Self.timestamp(ofISONamed:)).sorted()
    }

    /// The timestamp in a `<digits>.iso` file name, or nil for any other name.
    static func timestamp(ofISONamed name: String) -> Int? {
        guard name.hasSuffix(".iso") else { return nil }
        let stem = name.dropLast(4)
        guard !stem.isEmpty, stem.allSatisfy(\.isASCII), stem.allSatisfy(\.isNumber) else { return nil }
        return Int(stem)
    }

    /// The image `current` points to, if it points to a `<timestamp>.iso`.
    public func currentTimestamp() -> Int? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: currentLinkPath) else {
            return nil
        }
        return Self.timestamp(ofISONamed: (target as NSString).lastPathComponent)
    }

    /// Points `current` at the ISO for `timestamp`, atomically (a relative link, so the
    /// directory can be mounted anywhere).
    ///
    /// - Throws: `.io` naming the link.
    public func setCurrent(_ timestamp: Int) throws {
        try AtomicFile.symlink(Self.isoName(timestamp), at: currentLinkPath)
    }

    /// Deletes the oldest ISOs until at most `maxImages` remain, never one in `protected`.
    /// `maxImages` 0 keeps everything.
    ///
    /// - Returns: the file names deleted.
    public func prune(maxImages: Int, protected: Set<Int>) -> [String] {
        guard maxImages > 0 else { return [] }
        var present = isoTimestamps()
        var deleted: [String] = []
        var index = 0
        while present.count > maxImages, index < present.count {
            let timestamp = present[index]
            if protected.contains(timestamp) {
                index += 1
                continue
            }
            if unlink(isoPath(timestamp)) == 0 || errno == ENOENT {
                deleted.append(Self.isoName(timestamp))
                present.remove(at: index)
            } else {
                index += 1
            }
        }
        if !deleted.isEmpty { AtomicFile.syncDirectory(of: isoPath(0)) }
        return deleted
    }

    /// Whether the regular file for `image` is present, with the manifest's size when it gives
    /// one (a file of another length is not worth hashing). Nothing is opened.
    func holdsImage(_ image: ManifestImage) -> Bool {
        guard let size = RegularFile.size(atPath: isoPath(image.timestamp), followingLinks: false) else { return false }
        return image.size.map { size == $0 } ?? true
    }

    /// Deletes `.<name>.part-*` leftovers of interrupted downloads.
    ///
    /// - Returns: the file names deleted.
    public func removeStalePartFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasPrefix(".") && $0.contains(".iso.part-") }.filter {
            unlink("\(path)/\($0)") == 0
        }
    }
}
