import AsyncHTTPClient
import Foundation
import IconCore
import IconServer
import IconTestSupport
import NIOHTTP1
import Testing

@Suite struct StaticAndExecRouteTests {
    /// A static directory `docs` with a file, a hidden file and a symlink leading out of it.
    static func staticConfiguration(_ fixture: ServerFixture) throws -> ImageServerConfiguration {
        let docs = fixture.directory.join("docs")
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        try Data("hello docs".utf8).write(to: URL(fileURLWithPath: docs + "/readme.txt"))
        try Data("body{}".utf8).write(to: URL(fileURLWithPath: docs + "/site.css"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: docs + "/.secret"))
        try FileManager.default.createSymbolicLink(atPath: docs + "/escape", withDestinationPath: "../secret")
        var configuration = try fixture.configuration()
        configuration.staticPaths = ["docs": docs]
        return configuration
    }

    @Test func servesStaticFilesWithTheImagePathRules() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer(try Self.staticConfiguration(fixture)) { port in
            try await fixture.withClient { (client: HTTPClient) async throws in
                let base = "https://localhost:\(port)/static"
                let readme = try await client.fetch("\(base)/docs/readme.txt")
                #expect(readme.status == 200)
                #expect(String(decoding: readme.body, as: UTF8.self) == "hello docs")
                #expect(readme.header("content-type") == "text/plain; charset=utf-8")
                #expect(try await client.fetch("\(base)/docs/site.css").header("content-type") == "text/css; charset=utf-8")
                let partial = try await client.fetch("\(base)/docs/readme.txt", headers: [("Range", "bytes=6-9")])
                #expect(partial.status == 206)
                #expect(String(decoding: partial.body, as: UTF8.self) == "docs")
                let head = try await client.fetch("\(base)/docs/readme.txt", method: .HEAD)
                #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "10")
                for path in ["docs/.secret", "docs/escape", "docs/..%2F..%2Fsecret", "docs/%2e%2e", "nope/readme.txt", "docs", "docs/sub/x"] {
                    #expect(try await client.fetch("\(base)/\(path)").status == 404, "\(path)")
                }
            }
        }
    }

    @Test func aMissingStaticDirectoryIsRefusedAtStart() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.staticPaths = ["docs": fixture.directory.join("missing")]
        let error = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(error.code == .notFound)
        #expect(error.message.contains("--static-path docs="))
    }

    /// Writes an executable shell script (the handler itself may be a script; the server runs no shell of its own).
    static func script(_ fixture: ServerFixture, _ name: String, _ body: String) throws -> String {
        let path = fixture.directory.join(name)
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o755) == 0)
        return path
    }

    static func execConfiguration(_ fixture: ServerFixture) throws -> ImageServerConfiguration {
        var configuration = try fixture.configuration()
        configuration.execHandlers = [
            "args": try script(fixture, "args.sh", #"echo "args=$#"; echo "path=$PATH"; i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done"#),
            "slow": try script(fixture, "slow.sh", "echo started; exec sleep 600"),
        ]
        configuration.execTimeout = .seconds(1)
        return configuration
    }

    @Test func operatorsRunHandlersAndGetTheirOutput() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withServer(try Self.execConfiguration(fixture)) { port in
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                // Query and path extras never become arguments.
                let response = try await client.fetch("https://localhost:\(port)/exec/args?x=1%20;reboot", method: .POST)
                #expect(response.status == 200)
                #expect(response.header("content-type") == "text/plain; charset=utf-8")
                let lines = String(decoding: response.body, as: UTF8.self).split(separator: "\n")
                #expect(lines.first == "args=0")
                #expect(lines.count == 2002)
                #expect(lines.last == "line 1999")
                #expect(try await client.fetch("https://localhost:\(port)/exec/unknown", method: .POST).status == 404)
                #expect(try await client.fetch("https://localhost:\(port)/exec/args/more", method: .POST).status == 404)

                let start = ContinuousClock.now
                let slow = try await client.fetch("https://localhost:\(port)/exec/slow", method: .POST)
                #expect(String(decoding: slow.body, as: UTF8.self) == "started\n")
                #expect(ContinuousClock.now - start < .seconds(120))
            }
        }
    }

    @Test func aHandlerWhoseClientLeavesIsStopped() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let pidFile = fixture.directory.join("flood.pid")
        var configuration = try fixture.configuration()
        configuration.execHandlers = ["flood": try Self.script(fixture, "flood.sh", "echo $$ > \(pidFile); exec yes")]
        configuration.execTimeout = .seconds(60)
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                // Endless output: the client gives up after 16 MiB and closes the connection.
                await #expect(throws: (any Error).self) { try await client.fetch("https://localhost:\(port)/exec/flood", method: .POST) }
            }
            let text = try String(contentsOfFile: pidFile, encoding: .utf8)
            let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            let deadline = ContinuousClock.now + .seconds(10)
            while kill(pid, 0) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(kill(pid, 0) != 0, "the handler still runs")
        }
    }

    @Test func devicesMayNotRunHandlers() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer(try Self.execConfiguration(fixture)) { port in
            try await fixture.withClient { (client: HTTPClient) async throws in
                #expect(try await client.fetch("https://localhost:\(port)/exec/args", method: .POST).status == 403)
                #expect(try await client.fetch("https://localhost:\(port)/exec/unknown", method: .POST).status == 403)
            }
        }
        #expect(fixture.log.messages.contains { $0.contains("/exec/args 403") })
    }

    /// A GET (a link or an image on any page) or a POST from another site never runs a handler.
    @Test func handlersRunOnlyOnPostFromNoOtherSite() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let marker = fixture.directory.join("ran")
        var configuration = try fixture.configuration()
        configuration.execHandlers = ["touch": try Self.script(fixture, "touch.sh", "echo run >> \(marker); echo done")]
        let operatorTLS = try fixture.clientTLS(identity: try fixture.operatorIdentity())
        try await fixture.withServer(configuration) { port in
            let url = "https://localhost:\(port)/exec/touch"
            try await fixture.withClient(tls: operatorTLS) { (client: HTTPClient) async throws in
                let get = try await client.fetch(url)
                #expect(get.status == 405)
                #expect(get.header("allow") == "POST")
                #expect(String(decoding: get.body, as: UTF8.self) == "/exec/touch runs its handler only on POST (curl -X POST ...)\n")
                let foreign = try await client.fetch(url, method: .POST, headers: [("Origin", "https://evil.example")])
                #expect(foreign.status == 403)
                #expect(
                    String(decoding: foreign.body, as: UTF8.self)
                        == "/exec/touch refuses requests from origin https://evil.example: only this server's own pages and --allowed-origin may use it\n")
                #expect(!FileManager.default.fileExists(atPath: marker), "a refused request ran the handler")
                let own = try await client.fetch(url, method: .POST, headers: [("Origin", "https://localhost:\(port)")])
                #expect(own.status == 200)
                #expect(String(decoding: own.body, as: UTF8.self) == "done\n")
            }
        }
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "run\n")
    }

    /// HTML under --static-path runs sandboxed: no script of it can reach the dashboard's origin.
    @Test func staticFilesAreServedSandboxed() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let configuration = try Self.staticConfiguration(fixture)
        try Data("<script>fetch('/api/machines')</script>".utf8).write(to: URL(fileURLWithPath: configuration.staticPaths["docs"]! + "/page.html"))
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient { (client: HTTPClient) async throws in
                let page = try await client.fetch("https://localhost:\(port)/static/docs/page.html")
                #expect(page.status == 200)
                #expect(page.header("content-type") == "text/html; charset=utf-8")
                #expect(page.header("content-security-policy") == "sandbox")
                #expect(page.header("x-content-type-options") == "nosniff")
                let head = try await client.fetch("https://localhost:\(port)/static/docs/readme.txt", method: .HEAD)
                #expect(head.header("content-security-policy") == "sandbox")
                // Images are not pages; they keep their headers.
                let image = try await client.fetch("https://localhost:\(port)/image/demo/blob.bin")
                #expect(image.status == 200 && image.header("content-security-policy") == nil)
            }
        }
    }
}
