public import Foundation
import IconCore

extension StageCache {
    /// One cached root.
    public struct Entry: Hashable, Sendable {
        public var key: String
        public var path: String
        public var size: Int64
        public var modified: Date
    }

    /// The complete cached roots, newest first (interrupted `.partial.tar` files are not listed).
    public func entries() -> [Entry] {
        let roots = "\(directory)/roots"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: roots)) ?? []
        return names.filter { $0.hasSuffix(".tar") && !$0.hasSuffix(".partial.tar") }.compactMap { name in
            let path = "\(roots)/\(name)"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            return Entry(
                key: String(name.dropLast(".tar".count)), path: path,
                size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                modified: attributes[.modificationDate] as? Date ?? .distantPast)
        }.sorted { ($0.modified, $0.key) > ($1.modified, $1.key) }
    }

    /// Removes cached roots older than `maxAge` (when given) and all but the `keep` newest,
    /// plus leftovers of interrupted builds; returns what it removed.
    ///
    /// - Throws: `IconError.Code.io` naming a file that could not be removed.
    @discardableResult
    public func prune(keep: Int? = nil, olderThan maxAge: TimeInterval? = nil, now: Date = Date()) throws -> [Entry] {
        var doomed: [Entry] = []
        for (index, entry) in entries().enumerated() {
            let tooMany = keep.map { index >= $0 } ?? false
            let tooOld = maxAge.map { now.timeIntervalSince(entry.modified) > $0 } ?? false
            if tooMany || tooOld { doomed.append(entry) }
        }
        let roots = "\(directory)/roots"
        let partials = ((try? FileManager.default.contentsOfDirectory(atPath: roots)) ?? [])
            .filter { $0.hasSuffix(".partial.tar") }.map { "\(roots)/\($0)" }
        for path in doomed.map(\.path) + partials {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw IconError(.io, "cannot remove the cached root \(path)", cause: error)
            }
        }
        return doomed
    }
}
