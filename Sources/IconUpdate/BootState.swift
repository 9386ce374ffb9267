import Foundation
import IconCore
public import IconProtocol

/// What this machine learned about its images, kept in `<image-dir>/boot-state.json` so it
/// survives reboots: the images it marked good, the images GRUB fell back from (bad: never
/// chosen automatically again) and the last such fallback. grubenv stays minimal (see
/// `GrubEnvironment`); this file is for the agent and its reports.
public struct BootState: Codable, Sendable, Equatable {
    /// Images marked good, ascending.
    public var good: [Int]
    /// Images marked bad, ascending.
    public var bad: [Int]
    /// The last automatic fallback.
    public var lastRollback: RollbackReport?

    /// The file name inside the image directory.
    public static let fileName = "boot-state.json"
    /// At most this many good images are remembered (the newest), so the file stays small.
    public static let maxRemembered = 20

    public init(good: [Int] = [], bad: [Int] = [], lastRollback: RollbackReport? = nil) {
        self.good = good
        self.bad = bad
        self.lastRollback = lastRollback
    }

    enum CodingKeys: String, CodingKey {
        case good, bad
        case lastRollback = "last_rollback"
    }

    /// `<imageDir>/boot-state.json`.
    public static func path(imageDir: String) -> String { "\(imageDir)/\(fileName)" }

    /// Reads the state of `imageDir`; absent is empty.
    ///
    /// - Throws: `.malformed` naming the file when it is not such a JSON object, `.io` when it
    ///   is not a regular file or cannot be read.
    public static func load(imageDir: String) throws -> BootState {
        let path = path(imageDir: imageDir)
        guard let data = try RegularFile.contents(atPath: path) else { return BootState() }
        do {
            return try JSONDecoder().decode(BootState.self, from: data)
        } catch {
            throw IconError(.malformed, "\(path) is not a boot state file", cause: error)
        }
    }

    /// Writes the state atomically.
    ///
    /// - Throws: `.io` naming the file.
    public func save(imageDir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw IconError(.io, "cannot encode \(Self.path(imageDir: imageDir))", cause: error)
        }
        try AtomicFile.write(data, to: Self.path(imageDir: imageDir), mode: 0o644)
    }

    /// Records `timestamp` as good (and no longer bad).
    public mutating func markGood(_ timestamp: Int) {
        bad.removeAll { $0 == timestamp }
        if !good.contains(timestamp) { good = Array((good + [timestamp]).sorted().suffix(Self.maxRemembered)) }
    }

    /// Records `timestamp` as bad (and no longer good).
    public mutating func markBad(_ timestamp: Int) {
        good.removeAll { $0 == timestamp }
        if !bad.contains(timestamp) { bad = Array((bad + [timestamp]).sorted().suffix(Self.maxRemembered)) }
    }

    /// Forgets a bad mark, when an operator forces the image.
    public mutating func clearBad(_ timestamp: Int) {
        bad.removeAll { $0 == timestamp }
    }
}
