import Foundation

/// Times the build's stages and reports each one's name as it starts and its duration as
/// it ends.
public struct StageClock: Sendable {
    /// A finished stage.
    public struct Stage: Hashable, Sendable {
        public var name: String
        public var seconds: Double
    }

    public private(set) var stages: [Stage] = []
    private let report: @Sendable (String) -> Void

    /// - Parameter report: receives one human-readable line per event.
    public init(report: @escaping @Sendable (String) -> Void) {
        self.report = report
    }

    /// Runs `body` as the stage `name`.
    @discardableResult
    public mutating func run<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        report("==> \(name)")
        let start = ContinuousClock.now
        let value = try await body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        stages.append(Stage(name: name, seconds: seconds))
        report("    \(name): \(Self.format(seconds))")
        return value
    }

    /// `12.3s`.
    public static func format(_ seconds: Double) -> String {
        String(format: "%.1fs", seconds)
    }
}
