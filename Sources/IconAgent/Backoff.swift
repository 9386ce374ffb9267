/// Reconnect delays: exponential from `initial` up to `maximum`, each with full jitter in
/// [50 %, 150 %] so a fleet that lost its server does not reconnect in lockstep.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var attempt = 0

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next attempt; grows with each call until `reset()`.
    public mutating func next(random: Double = Double.random(in: 0.5...1.5)) -> Duration {
        let base = min(initial * (1 << min(attempt, 20)), maximum)
        attempt += 1
        return base * random
    }

    /// Called after a connection that worked: the next failure starts from `initial` again.
    public mutating func reset() {
        attempt = 0
    }
}
