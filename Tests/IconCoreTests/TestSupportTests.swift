import IconCore
import IconTestSupport
import Synchronization
import Testing

/// The shared test helpers fail when they should: a helper that cannot fail proves nothing.
@Suite struct TestSupportTests {
    @Test func expectIconErrorReturnsTheErrorOfTheExpectedCode() async throws {
        let error = expectIconError(.notFound) { throw IconError(.notFound, "no such file") }
        #expect(error?.message == "no such file")
        let async = await expectIconError(.io) { () async throws in throw IconError(.io, "read failed") }
        #expect(async?.code == .io)
    }

    @Test func expectIconErrorRecordsAnotherCodeAnotherErrorAndNoError() async {
        struct Other: Error {}
        withKnownIssue("another code") {
            expectIconError(.notFound) { throw IconError(.io, "x") }
        }
        withKnownIssue("not an IconError") {
            expectIconError(.notFound) { throw Other() }
        }
        withKnownIssue("nothing thrown") {
            expectIconError(.notFound) { 1 }
        }
        await withKnownIssue("nothing thrown, async") {
            await expectIconError(.notFound) { () async throws in 1 }
        }
    }

    @Test func loopbackRunsTheBodyWithTheReportedPortAndStopsTheServer() async throws {
        let stopped = Atomic<Bool>(false)
        let ports = Loopback.Ports()
        let port = try await ports.serve({
            ports.report(4242)
            do {
                try await Task.sleep(for: .seconds(600))
            } catch {
                stopped.store(true, ordering: .sequentiallyConsistent)
                throw error
            }
        }) { port in port }
        #expect(port == 4242)
        let wasStopped = stopped.load(ordering: .sequentiallyConsistent)
        #expect(wasStopped)
    }

    @Test func aServerThatFailsBeforeListeningFailsTheCall() async {
        let ports = Loopback.Ports()
        let error = await expectIconError(.badKey) {
            try await ports.serve({ throw IconError(.badKey, "--key x holds no usable PEM private key") }) { _ in 0 }
        }
        #expect(error?.message == "--key x holds no usable PEM private key")
    }
}
