import Foundation
import ServiceLifecycle

/// Gives the memory of closed connections back to the system.
///
/// glibc's allocator keeps freed memory in its arenas: after 200 stalled readers or 2,000 TLS
/// connections closed, the server stayed 100-180 MiB above its idle size although nothing used
/// that memory. `malloc_trim(0)` returns the free pages; this service calls it every `interval`.
/// Swift's Glibc module does not import `malloc.h`, so the function is looked up by name; where
/// it does not exist (another C library) the service does nothing.
struct MemoryTrimmer: Service {
    var interval: Duration = .seconds(10)

    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, when the process has it.
    private static let trim: Trim? = {
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    /// Returns free memory to the system now; false when the C library cannot.
    @discardableResult
    static func trimNow() -> Bool {
        guard let trim else { return false }
        _ = trim(0)
        return true
    }

    /// Until graceful shutdown (a service that returned earlier would stop the server).
    func run() async throws {
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                Self.trimNow()
            }
        }
    }
}
