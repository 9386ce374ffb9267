import Foundation

/// The process's limit on open file descriptors: each connection takes one, each file being
/// sent another, so it bounds what `--max-connections` can be.
public enum OpenFileLimit {
    /// Descriptors kept for what is not a connection: files being sent, the inventory, pipes.
    public static let reserved = 256

    /// Raises the soft limit to the hard one and returns the soft limit then in force; `nil`
    /// when the limit cannot be read or is unlimited.
    @discardableResult
    public static func raise() -> Int? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Self.resource, &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones (its C macro does not import as an unsigned value).
        guard limit.rlim_cur != rlim_t.max, limit.rlim_cur < rlim_t(Int.max) else { return nil }
        return Int(limit.rlim_cur)
    }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
