import Foundation
import HTTPTypes
import HummingbirdWSClient
import IconProtocol
import Logging
import NIOSSL
import Synchronization

/// An operator's `/ws/master` connection for end-to-end tests: keeps every message it
/// receives and sends commands.
final class OperatorSocket: Sendable {
    private let received = Mutex<[HubMessage]>([])
    private let opened = Mutex(false)
    let outgoing: AsyncStream<String>.Continuation
    private let outgoingStream: AsyncStream<String>

    init() { (outgoingStream, outgoing) = AsyncStream.makeStream(of: String.self) }

    var messages: [HubMessage] { received.withLock { $0 } }
    var isOpen: Bool { opened.withLock { $0 } }

    func send(_ message: HubMessage) { outgoing.yield(message.jsonText()) }

    /// Connects and runs until the task is cancelled or the server closes the connection.
    func run(port: Int, tls: TLSConfiguration) async throws {
        try await WebSocketClient.connect(
            url: "wss://localhost:\(port)/ws/master",
            configuration: .init(additionalHeaders: [.secWebSocketProtocol: HubSubprotocol.master]),
            tlsConfiguration: tls,
            logger: Logger(label: "operator") { _ in SwiftLogNoOpLogHandler() }
        ) { inbound, outbound, _ in
            self.opened.withLock { $0 = true }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, let decoded = try? HubMessage.decode(text) {
                            self.received.withLock { $0.append(decoded) }
                        }
                    }
                }
                group.addTask {
                    for await text in self.outgoingStream { try await outbound.writeTextMessage(text) }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// The first report (newest first) matching `predicate` within `timeout`.
    func waitForReport(
        timeout: Duration = .seconds(60), _ predicate: (ReportData) -> Bool
    ) async -> Report? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            for case .report(let report) in messages.reversed() where predicate(report.data) { return report }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return nil
    }
}
