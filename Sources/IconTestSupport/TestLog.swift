public import Logging
public import InMemoryLogging

/// A logger whose events stay in memory, for tests that check what a component logged:
/// swift-log's `InMemoryLogHandler`, with the views tests use. Never bootstraps logging.
public struct TestLog: Sendable {
    /// One logged event, as tests compare it.
    public struct Entry: Sendable, Equatable {
        public var level: Logger.Level
        public var message: String

        public init(level: Logger.Level, message: String) {
            self.level = level
            self.message = message
        }
    }

    /// The handler every logger of this log writes to.
    public let handler: InMemoryLogHandler
    /// The level loggers made by ``logger(label:)`` log from.
    public var level: Logger.Level

    public init(level: Logger.Level = .debug) {
        handler = InMemoryLogHandler()
        self.level = level
    }

    /// A logger writing into this log, from ``level`` up.
    public func logger(label: String = "test") -> Logger {
        let handler = self.handler
        var logger = Logger(label: label) { _ in handler }
        logger.logLevel = level
        return logger
    }

    /// Everything logged so far, in order.
    public var entries: [Entry] {
        handler.entries.map { Entry(level: $0.level, message: $0.message.description) }
    }

    /// The messages logged so far, in order.
    public var messages: [String] { entries.map(\.message) }

    /// The messages logged at `level` or above.
    public func messages(atLeast level: Logger.Level) -> [String] {
        entries.filter { $0.level >= level }.map(\.message)
    }

    /// Waits until some entry satisfies `predicate`, up to `timeout`.
    public func wait(timeout: Duration = .seconds(30), _ predicate: (Entry) -> Bool) async -> Entry? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let entry = entries.first(where: predicate) { return entry }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return entries.first(where: predicate)
    }
}
