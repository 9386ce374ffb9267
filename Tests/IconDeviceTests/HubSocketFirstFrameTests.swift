import Crypto
import Foundation
@testable import IconFleetClient
import IconProtocol
import IconTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The hub's greeting can arrive in the same read as the server's `101 Switching Protocols`
/// (a slow client, such as a machine under software emulation, finds both in its socket buffer).
/// Those bytes belong to the WebSocket and must reach it: the agent's catch-up on connect
/// depends on that first `image_types` message.
@Suite struct HubSocketFirstFrameTests {
    static let greeting = #"{"type":"image_types","data":{"image_types":["demo"]}}"#

    /// Answers the first request with the 101 response and a text frame in one write.
    final class OneWriteUpgrade: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var request = ""
        var answered = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            request += buffer.readString(length: buffer.readableBytes) ?? ""
            guard !answered, request.contains("\r\n\r\n") else { return }
            answered = true
            let key = request.split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
            let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(accept)\r\nSec-WebSocket-Protocol: iconograph-slave\r\n\r\n"
            var out = context.channel.allocator.buffer(string: head)
            let payload = Array(HubSocketFirstFrameTests.greeting.utf8)
            out.writeBytes([0x81, UInt8(payload.count)] + payload)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aGreetingInTheSameReadAsTheUpgradeResponseIsDelivered() async throws {
        try await FetchEnvironment.with { env in
            let chain = try NIOSSLCertificate.fromPEMFile(env.pki.server.certPath)
                + NIOSSLCertificate.fromPEMFile(env.pki.intermediate.certPath)
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: env.pki.server.keyPath, format: .pem)))
            let context = try NIOSSLContext(configuration: tls)
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(OneWriteUpgrade())
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            defer { server.close(promise: nil) }
            let port = try #require(server.localAddress?.port)
            let files = try HubSocketTests.deviceFiles(env)
            let endpoint = try HubEndpoint.resolve(server: "wss://localhost:\(port)", serverName: nil, path: "/ws/slave")
            let socket = try await HubSocket.connect(to: endpoint, subprotocol: HubSubprotocol.slave, files: files)
            var events = socket.events.makeAsyncIterator()
            #expect(try await events.next() == .text(Self.greeting))
            await socket.close()
        }
    }
}
