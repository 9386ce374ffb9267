import NIOCore
import Testing

@testable import IconServer

/// The deadline state machine behind ``ConnectionDeadlines``, driven with explicit times.
@Suite struct ConnectionPhasesTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let limits = ConnectionLimits(
        tlsHandshakeTimeout: .seconds(10), requestHeaderTimeout: .seconds(5), idleTimeout: .seconds(60),
        webSocketPingInterval: .seconds(30), maxRequestLineBytes: 100)

    func at(_ seconds: Int64) -> NIODeadline { start + .seconds(seconds) }

    func bytes(_ text: String) -> ByteBufferView { ByteBuffer(string: text).readableBytesView }

    @Test func handshakeDeadlineRunsFromAccept() {
        let phases = ConnectionPhases(limits: limits, now: start)
        #expect(phases.deadline?.at == at(10))
        #expect(phases.deadline?.expiry == .tlsHandshake)
    }

    @Test func headerBytesDoNotMoveTheHeaderDeadline() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: at(1))
        #expect(phases.deadline?.at == at(6))
        for second in 2...5 {
            #expect(phases.read(bytes("X"), now: at(Int64(second))) == .forward)
        }
        #expect(phases.deadline?.at == at(6))
        #expect(phases.deadline?.expiry == .requestHeader)
    }

    @Test func afterAResponseTheIdleDeadlineRunsUntilTheNextRequestStarts() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: start)
        phases.headReceived(now: at(1))
        phases.requestEnded(now: at(1))
        #expect(phases.deadline == nil, "no deadline while a response is being sent to a reading client")
        phases.responseEnded(now: at(2))
        #expect(phases.deadline?.at == at(62))
        #expect(phases.deadline?.expiry == .idle)
        _ = phases.read(bytes("GET / HT"), now: at(30))
        #expect(phases.deadline?.at == at(35))
        #expect(phases.deadline?.expiry == .requestHeader)
    }

    @Test func aResponseTheClientDoesNotReadGetsTheIdleTimeout() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: start)
        phases.headReceived(now: at(1))
        phases.requestEnded(now: at(1))
        phases.writabilityChanged(isWritable: false, now: at(3))
        #expect(phases.deadline?.at == at(63))
        #expect(phases.deadline?.expiry == .stalledReader)
        phases.writabilityChanged(isWritable: true, now: at(10))
        #expect(phases.deadline == nil)
    }

    @Test func aLongRequestLineIsFoundBeforeItsLineFeed() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: start)
        #expect(phases.read(bytes("GET /" + String(repeating: "a", count: 90)), now: at(1)) == .forward)
        #expect(phases.read(bytes(String(repeating: "a", count: 20)), now: at(1)) == .requestLineTooLong)
    }

    @Test func aShortRequestLineWithLongHeadersPasses() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: start)
        let head = "GET / HTTP/1.1\r\nX-Long: " + String(repeating: "a", count: 500) + "\r\n\r\n"
        #expect(phases.read(bytes(head), now: at(1)) == .forward)
    }

    @Test func anUpgradedWebSocketHasOnlyTheDeadPeerDeadline() {
        var phases = ConnectionPhases(limits: limits, now: start)
        phases.handshakeCompleted(now: start)
        phases.headReceived(now: at(1))
        phases.upgraded(now: at(1))
        #expect(phases.deadline?.at == at(61))
        #expect(phases.deadline?.expiry == .deadPeer)
        _ = phases.read(bytes("pong"), now: at(50))
        #expect(phases.deadline?.at == at(110))
    }
}
