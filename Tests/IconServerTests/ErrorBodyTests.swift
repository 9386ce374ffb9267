import AsyncHTTPClient
import Foundation
import IconPKI
import IconServer
import IconTestSupport
import NIOHTTP1
import Testing
import X509

/// Refusals and client errors say why in one line of text/plain; server errors say nothing inside.
@Suite struct ErrorBodyTests {
    static func text(_ response: FetchedResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func aDeviceIsToldWhyOperatorEndpointsRefuseIt() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try StaticAndExecRouteTests.execConfiguration(fixture)
        configuration.stateDirectory = fixture.directory.join("state")
        let robot = try fixture.pki.issueLeaf(
            name: "robot-17", file: "robot-17", usages: [.clientAuth, .init(oid: IconOID.deviceRole)])
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: try fixture.clientTLS(identity: robot)) { (client: HTTPClient) async throws in
                for path in ["/api/machines", "/api/audit", "/exec/args", "/exec/x"] {
                    let response = try await client.fetch("https://localhost:\(port)\(path)", method: path.hasPrefix("/exec") ? .POST : .GET)
                    #expect(response.status == 403, "\(path)")
                    #expect(response.header("content-type") == "text/plain; charset=utf-8")
                    #expect(Self.text(response) == "\(path) needs an operator certificate; CN=robot-17,O=Iconograph Test is a device\n")
                }
            }
            try await fixture.withClient(tls: try fixture.clientTLS(identity: try fixture.operatorIdentity())) {
                (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/api/machines").status == 200)
                #expect(try await client.fetch("https://localhost:\(port)/exec/args", method: .POST).status == 200)
                let unknown = try await client.fetch("https://localhost:\(port)/exec/x", method: .POST)
                #expect(unknown.status == 404)
                #expect(Self.text(unknown) == "no --exec-handler named 'x'\n")
            }
        }
    }

    @Test func clientErrorsCarryTheMessageAndServerErrorsOnlyTheStatus() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.stateDirectory = fixture.directory.join("state")
        // A handler whose interpreter is missing cannot be started: a 500 whose cause stays in the log.
        let broken = fixture.directory.join("broken.sh")
        try Data("#!/nonexistent/interpreter\n".utf8).write(to: URL(fileURLWithPath: broken))
        #expect(chmod(broken, 0o755) == 0)
        configuration.execHandlers = ["broken": broken]
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: try fixture.clientTLS(identity: try fixture.operatorIdentity())) {
                (client: HTTPClient) async throws in
                let missing = try await client.fetch("https://localhost:\(port)/image/demo/nope.iso")
                #expect(missing.status == 404)
                #expect(Self.text(missing) == "no file at /image/demo/nope.iso\n")
                let head = try await client.fetch("https://localhost:\(port)/image/demo/nope.iso", method: .HEAD)
                #expect(head.status == 404 && head.body.isEmpty)
                let limit = try await client.fetch("https://localhost:\(port)/api/audit?limit=0")
                #expect(limit.status == 400)
                #expect(Self.text(limit) == "/api/audit: limit '0' is not between 1 and 10000\n")
                let failed = try await client.fetch("https://localhost:\(port)/exec/broken", method: .POST)
                #expect(failed.status == 500)
                #expect(Self.text(failed) == "500 Internal Server Error: see the server log\n")
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("/exec/broken 500") })
    }
}
