import Foundation
import Glibc
import IconCore
@testable import IconMachineTools
import Testing

#if canImport(Glibc)
#endif

@Suite("wait-for-service")
struct ServiceWaiterTests {
    /// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
    static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, Glibc.listen(fd, 8) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        try #require(bound == 0)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func succeedsAtOnceAgainstAListeningSocket() async throws {
        let (fd, port) = try Self.listen()
        defer { close(fd) }
        let attempts = try await ServiceWaiter(host: "127.0.0.1", service: String(port), timeout: .seconds(5)).wait()
        #expect(attempts == 1)
    }

    @Test(.timeLimit(.minutes(2))) func failsAfterTheTimeoutAgainstAClosedPort() async throws {
        let (fd, port) = try Self.listen()
        close(fd)  // the port is now closed: connections are refused
        let start = ContinuousClock.now
        let waiter = ServiceWaiter(host: "127.0.0.1", service: String(port), timeout: .milliseconds(600), interval: .milliseconds(100))
        let error = await #expect(throws: IconError.self) { try await waiter.wait() }
        #expect(error?.code == .network)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        #expect(error?.message.contains("refused") == true)
        // Not before the timeout. (That it ends at all is the point; how soon after the timeout
        // depends on how busy the parallel test run keeps the machine, so no upper bound.)
        #expect(ContinuousClock.now - start >= .milliseconds(600))
    }

    @Test func keepsRetryingUntilTheServiceComesUp() async throws {
        // Reserve a port, close it, and open it again a little later.
        let (reserved, port) = try Self.listen()
        close(reserved)
        async let attempts = ServiceWaiter(host: "127.0.0.1", service: String(port), timeout: .seconds(10), interval: .milliseconds(100)).wait()
        try await Task.sleep(for: .milliseconds(450))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && Glibc.listen(fd, 8) == 0 }
        }
        defer { close(fd) }
        try #require(ok)
        #expect(try await attempts > 1)
    }

    @Test func resolvesServiceNames() {
        // "https" resolves through /etc/services; an unknown name does not.
        #expect(ServiceWaiter.tryConnect(host: "127.0.0.1", service: "no-such-service-name", timeout: .seconds(1)) != .success)
        if case .failure(let reason) = ServiceWaiter.tryConnect(host: "127.0.0.1", service: "no-such-service-name", timeout: .seconds(1)) {
            #expect(reason.contains("cannot resolve"))
        }
    }
}
