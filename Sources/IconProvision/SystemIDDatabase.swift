import Foundation
public import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// The database of issued system ids: `<directory>/systemids`, one 6-hex-digit id per line.
///
/// Allocation holds an exclusive `flock` on `<directory>/systemids.lock` while it reads the
/// file, picks a random unused id and rewrites the file with ``AtomicFile``, so concurrent
/// runs (two drives imaged at once) never hand out the same id, and a crash leaves the old
/// or the new list, never a torn one.
public struct SystemIDDatabase: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The id list file.
    public var path: String { "\(directory)/systemids" }
    /// The lock file.
    public var lockPath: String { "\(directory)/systemids.lock" }

    /// Number of possible ids (6 hex digits).
    public static let capacity = 1 << 24

    /// The ids issued so far, in the order they were issued.
    /// - Throws: `.io` when the file exists but cannot be read.
    public func ids() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        } catch {
            throw IconError(.io, "cannot read system id database \(path)", cause: error)
        }
    }

    /// Picks a random id not in the database, records it and returns it.
    ///
    /// - Parameter random: the id source (tests inject collisions).
    /// - Throws: `.io` naming the database file or lock, `.exhausted` when every id is taken.
    public func allocate(random: () -> Int = { Int.random(in: 0..<SystemIDDatabase.capacity) }) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create system id database directory \(directory)", cause: error)
        }
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IconError(.io, "cannot open lock \(lockPath): \(errnoText())") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw IconError(.io, "cannot lock \(lockPath): \(errnoText())") }
        }
        defer { flock(fd, LOCK_UN) }
        var existing = try ids()
        let taken = Set(existing.map { $0.lowercased() })
        guard taken.count < Self.capacity else {
            throw IconError(.exhausted, "every 6-hex-digit system id is taken in \(path)")
        }
        var id = Self.format(random())
        while taken.contains(id) {
            id = Self.format(random())
        }
        existing.append(id)
        try AtomicFile.write(Array((existing.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o644)
        return id
    }

    /// `value` as six lowercase hex digits.
    static func format(_ value: Int) -> String {
        let hex = String(value & (capacity - 1), radix: 16)
        return String(repeating: "0", count: 6 - hex.count) + hex
    }
}

extension IconError.Code {
    /// A pool of identifiers is used up.
    public static let exhausted: IconError.Code = "exhausted"
}
