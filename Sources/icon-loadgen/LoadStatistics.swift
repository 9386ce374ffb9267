import Foundation
import Synchronization

/// Counters shared by every simulated machine, and the `new_manifest` delivery times.
final class LoadStatistics: Sendable {
    private struct State {
        var open = 0
        var everConnected = 0
        var failures = 0
        var firstFailure: String?
        var manifestStart: ContinuousClock.Instant?
        var deliveries: [Duration] = []
    }
    private let state = Mutex(State())

    func connected() { state.withLock { $0.open += 1; $0.everConnected += 1 } }
    func disconnected() { state.withLock { $0.open -= 1 } }
    func failed(_ reason: String) {
        state.withLock {
            $0.failures += 1
            if $0.firstFailure == nil { $0.firstFailure = reason }
        }
    }

    /// Starts the clock for delivery times; call just before the manifest is renamed into place.
    func startManifestClock() { state.withLock { $0.manifestStart = .now } }

    func receivedManifest() {
        let now = ContinuousClock.now
        state.withLock { state in
            if let start = state.manifestStart { state.deliveries.append(now - start) }
        }
    }

    var open: Int { state.withLock { $0.open } }
    var everConnected: Int { state.withLock { $0.everConnected } }
    var failures: (count: Int, first: String?) { state.withLock { ($0.failures, $0.firstFailure) } }
    var deliveries: [Duration] { state.withLock { $0.deliveries } }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
