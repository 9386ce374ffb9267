import Foundation
import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// Waits until a TCP service accepts connections (`icon wait-for-service`), for boot scripts
/// that must not start before a server is up.
public struct ServiceWaiter: Sendable {
    public var host: String
    /// A port number or a service name from /etc/services (`https`).
    public var service: String
    /// Give up after this long; nil waits forever.
    public var timeout: Duration?
    /// Pause between attempts.
    public var interval: Duration
    /// How long one connection attempt may take.
    public var attemptTimeout: Duration

    public init(host: String, service: String, timeout: Duration? = nil, interval: Duration = .seconds(1), attemptTimeout: Duration = .seconds(2)) {
        self.host = host
        self.service = service
        self.timeout = timeout
        self.interval = interval
        self.attemptTimeout = attemptTimeout
    }

    /// Retries until a connection succeeds; returns the number of attempts it took.
    ///
    /// - Throws: `.network` naming host and service after the timeout (with the last
    ///   reason), or `CancellationError` when the task is cancelled.
    @discardableResult
    public func wait(clock: ContinuousClock = ContinuousClock()) async throws -> Int {
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        var attempts = 0
        while true {
            attempts += 1
            let failure: String
            switch Self.tryConnect(host: host, service: service, timeout: attemptTimeout) {
            case .success: return attempts
            case .failure(let reason): failure = reason
            }
            var pause = interval
            if let deadline {
                let left = deadline - clock.now
                guard left > .zero else {
                    throw IconError(
                        .network,
                        "\(host):\(service) did not accept a connection within \(timeout!) (\(attempts) attempts; last: \(failure))")
                }
                // One last attempt right at the deadline rather than giving up early.
                pause = min(interval, left)
            }
            try await Task.sleep(for: pause, clock: clock)
        }
    }

    enum Attempt: Equatable {
        case success
        case failure(String)
    }

    /// One attempt: resolve, then a non-blocking connect to each address until one succeeds.
    static func tryConnect(host: String, service: String, timeout: Duration) -> Attempt {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, service, &hints, &list)
        guard status == 0, let first = list else {
            return .failure("cannot resolve \(host):\(service): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var reason = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            switch connect(info.pointee, timeout: timeout) {
            case .success: return .success
            case .failure(let why): reason = why
            }
            cursor = info.pointee.ai_next
        }
        return .failure(reason)
    }

    static func connect(_ info: addrinfo, timeout: Duration) -> Attempt {
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { return .failure("socket: \(errnoText())") }
        defer { close(fd) }
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return .success }
        guard errno == EINPROGRESS else { return .failure(errnoText()) }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(timeout / .milliseconds(1))
        let ready = poll(&poller, 1, milliseconds)
        guard ready > 0 else { return .failure(ready == 0 ? "connection timed out" : errnoText()) }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? .success : .failure(String(cString: strerror(error)))
    }
}
