import Foundation
public import IconCore
import Synchronization

extension IconError.Code {
    /// A transfer made too little progress for too long (see ``StallGuard``): a slow-retrieval
    /// attack or a stuck network.
    public static let timeout: IconError.Code = "timeout"
    /// A download ran past the size the manifest gives, or past a configured maximum.
    public static let tooLarge: IconError.Code = "too-large"
}

/// Cuts a transfer that makes too little progress. HTTP read timeouts restart with every
/// byte, so a server trickling one byte a second keeps a download open for ever; this rule
/// looks at the rate instead: in every `window`, at least `minimumBytes` must arrive (or all
/// that is still missing, when that is less). The window starts with the request, so a server
/// that never answers is cut after one window too.
public struct StallGuard: Sendable {
    /// How long a transfer may go without enough progress.
    public var window: Duration
    /// The least progress that counts, per window.
    public var minimumBytes: Int

    /// The progress that counts by default: 64 KiB per window.
    public static let defaultMinimumBytes = 64 * 1024

    public init(window: Duration, minimumBytes: Int = StallGuard.defaultMinimumBytes) {
        self.window = window
        self.minimumBytes = minimumBytes
    }

    /// Runs `operation`, which reports what it receives to the meter and calls
    /// ``TransferMeter/finish()`` when the transfer is over (the work after it, such as an
    /// fsync, is not watched).
    ///
    /// - Throws: `.timeout` naming `url` and `flag` when a window passes with too little
    ///   progress (the operation is cancelled first); otherwise what `operation` throws.
    public func run<T: Sendable>(
        url: String, flag: String, _ operation: @escaping @Sendable (TransferMeter) async throws -> T
    ) async throws -> T {
        let meter = TransferMeter()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation(meter) }
            group.addTask {
                try await watch(meter, url: url, flag: flag)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    /// Returns once the meter is finished; throws `.timeout` at the first window with too
    /// little progress.
    func watch(_ meter: TransferMeter, url: String, flag: String) async throws {
        var before = meter.received
        while true {
            try await Task.sleep(for: window)
            if meter.isFinished { return }
            let now = meter.received
            var needed = minimumBytes
            if let total = meter.expectedTotal { needed = min(needed, total - before) }
            if now - before < max(needed, 1) {
                throw IconError(.timeout, stallMessage(url: url, received: now - before, flag: flag))
            }
            before = now
        }
    }

    func stallMessage(url: String, received: Int, flag: String) -> String {
        let seconds = window / .seconds(1)
        let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
        let least = minimumBytes % 1024 == 0 ? "\(minimumBytes / 1024) KiB" : "\(minimumBytes) bytes"
        return "\(url) stalled: \(received) bytes arrived in the last \(shown) s, and a transfer must make at least "
            + "\(least) (or finish) in every \(shown) s (\(flag)); the server or the network is too slow or stuck"
    }
}

/// What a watched transfer has received, shared between it and its ``StallGuard``.
public final class TransferMeter: Sendable {
    private let receivedBytes = Atomic<Int>(0)
    private let total = Atomic<Int>(-1)
    private let finished = Atomic<Bool>(false)

    init() {}

    /// Bytes received so far.
    public var received: Int { receivedBytes.load(ordering: .relaxed) }
    /// The length the transfer will have, when known.
    public var expectedTotal: Int? {
        let value = total.load(ordering: .relaxed)
        return value >= 0 ? value : nil
    }
    var isFinished: Bool { finished.load(ordering: .relaxed) }

    /// Counts `count` more bytes received.
    public func add(_ count: Int) { receivedBytes.add(count, ordering: .relaxed) }
    /// Records the length the transfer will have.
    public func expect(total bytes: Int) { total.store(bytes, ordering: .relaxed) }
    /// Ends the watch: everything has arrived.
    public func finish() { finished.store(true, ordering: .relaxed) }
}
