/// Runs named steps and reports each one's name and duration (`partition: 0.31 s`).
public struct StepReporter: Sendable {
    /// Receives one line per finished step.
    public var report: @Sendable (String) -> Void

    public init(report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.report = report
    }

    /// Runs `body`, then reports `name` with its duration (also when it throws, marked failed).
    @discardableResult
    public func step<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            report("\(name): \(Self.format(ContinuousClock.now - start))")
            return value
        } catch {
            report("\(name): failed after \(Self.format(ContinuousClock.now - start))")
            throw error
        }
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let hundredths = Int((seconds * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) s"
    }
}
