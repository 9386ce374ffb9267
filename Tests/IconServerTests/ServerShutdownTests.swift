import IconProtocol
import IconServer
import IconTestSupport
import Logging
import ServiceLifecycle
import Testing

@Suite struct ServerShutdownTests {
    /// `icon server` stops on SIGTERM through graceful shutdown; open hub connections must not hold it up.
    @Test func gracefulShutdownClosesHubConnections() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = try ImageServer(configuration: fixture.configuration()) { continuation.yield($0) }
        let group = ServiceGroup(
            configuration: .init(services: [server], logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { device in
                #expect(await device.waitFor { $0 == .imageTypes(["demo"]) } != nil)
                await group.triggerGracefulShutdown()
                #expect(await device.waitClosed(timeout: .seconds(10)))
            }
            tasks.addTask {
                try await Task.sleep(for: .seconds(15))
                return false
            }
            let stoppedFirst = try await tasks.next()
            tasks.cancelAll()
            #expect(stoppedFirst == true, "the server did not stop within 15 s of graceful shutdown")
        }
    }
}
