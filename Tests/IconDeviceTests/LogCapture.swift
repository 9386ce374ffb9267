import Logging
import Synchronization

/// Keeps log events in memory so tests can assert on what a component logged, and at which
/// level, without bootstrapping the logging system.
final class LogCapture: Sendable {
    struct Entry: Sendable, Equatable {
        var level: Logger.Level
        var message: String
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    /// The messages logged at `level` or above.
    func messages(atLeast level: Logger.Level) -> [String] {
        all.filter { $0.level >= level }.map(\.message)
    }

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    /// A logger writing into this capture, from `.debug` up.
    func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    /// Waits until some entry satisfies `predicate`, up to `timeout`.
    func wait(timeout: Duration = .seconds(30), _ predicate: (Entry) -> Bool) async -> Entry? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let entry = all.first(where: predicate) { return entry }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return all.first(where: predicate)
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.record(Entry(level: event.level, message: event.message.description))
        }
    }
}
