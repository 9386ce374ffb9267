public import Foundation

/// Processes for tests of code that checks whether a process is alive.
public enum ExitedProcess {
    /// The PID of a process that has exited and been reaped (so no process has it, until the
    /// kernel reuses it).
    public static func pid() throws -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
