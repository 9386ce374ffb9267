import Foundation
public import Logging

/// The process-wide log setup of the `icon` executable: human-readable lines on standard error,
/// level from `ICON_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical; default info).
/// Under systemd the lines land in the journal.
public enum IconLogHandler {
    public static func factory(label: String) -> any LogHandler {
        var handler = StreamLogHandler.standardError(label: label)
        let name = ProcessInfo.processInfo.environment["ICON_LOG_LEVEL"] ?? "info"
        handler.logLevel = Logger.Level(rawValue: name.lowercased()) ?? .info
        return handler
    }
}
