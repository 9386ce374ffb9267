import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "icon-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path` joined with `component`.
    public func join(_ component: String) -> String { "\(path)/\(component)" }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs `body` with a temporary directory that is removed afterwards, also when it throws.
public func withTemporaryDirectory<T>(
    prefix: String = "icon-test", _ body: (TemporaryDirectory) async throws -> T
) async throws -> T {
    let dir = try TemporaryDirectory(prefix: prefix)
    defer { dir.remove() }
    return try await body(dir)
}

/// `withTemporaryDirectory` for synchronous bodies.
public func withTemporaryDirectorySync<T>(
    prefix: String = "icon-test", _ body: (TemporaryDirectory) throws -> T
) throws -> T {
    let dir = try TemporaryDirectory(prefix: prefix)
    defer { dir.remove() }
    return try body(dir)
}

/// The directory of the shared compatibility vectors (`../shared/compat` next to the repo).
public enum CompatVectors {
    public static var directory: String {
        if let env = ProcessInfo.processInfo.environment["ICON_COMPAT_DIR"] { return env }
        // Tests/<Target>/<File>.swift → repo root → ../shared/compat
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("shared/compat").path
    }

    public static func path(_ relative: String) -> String { "\(directory)/\(relative)" }
}
