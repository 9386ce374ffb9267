import AsyncHTTPClient
import Foundation
import IconServer
import IconTestSupport
import NIOHTTP1
import NIOSSL
import Testing

@Suite struct ImageServerTests {
    @Test func getServesTheWholeFileWithHeaders() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let response = try await client.fetch("https://127.0.0.1:\(port)/image/demo/\(ServerFixture.isoName)")
                #expect(response.status == 200)
                #expect(response.body == fixture.isoBytes)
                #expect(response.header("Content-Length") == String(fixture.isoBytes.count))
                #expect(response.header("Content-Type") == "application/x-iso9660-image")
                #expect(response.header("Accept-Ranges") == "bytes")
                #expect(response.header("Cache-Control") == nil)
            }
        }
        // One log line per request, naming the client certificate.
        #expect(fixture.log.messages.contains("GET /image/demo/\(ServerFixture.isoName) 200 CN=device-1,O=Iconograph Test"))
    }

    @Test func localhostNameAndEmptyFile() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let response = try await client.fetch("https://localhost:\(port)/image/demo/empty.iso")
                #expect(response.status == 200)
                #expect(response.body.isEmpty)
                #expect(response.header("Content-Length") == "0")
            }
        }
    }

    @Test func headSendsHeadersOnly() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let url = "https://127.0.0.1:\(port)/image/demo/\(ServerFixture.isoName)"
                let head = try await client.fetch(url, method: .HEAD)
                #expect(head.status == 200)
                #expect(head.body.isEmpty)
                #expect(head.header("Content-Length") == String(fixture.isoBytes.count))
                #expect(head.header("Content-Type") == "application/x-iso9660-image")
                #expect(head.header("Accept-Ranges") == "bytes")
                // The connection stays usable after a HEAD.
                let get = try await client.fetch("https://127.0.0.1:\(port)/image/demo/blob.bin")
                #expect(get.body == Array("blob".utf8))
                let missing = try await client.fetch("https://127.0.0.1:\(port)/image/demo/nope.iso", method: .HEAD)
                #expect(missing.status == 404)
            }
        }
    }

    @Test func contentTypesAndManifestCaching() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let base = "https://127.0.0.1:\(port)/image/demo/"
                let manifest = try await client.fetch(base + "manifest.json")
                #expect(manifest.status == 200)
                #expect(manifest.header("Content-Type") == "application/json")
                #expect(manifest.header("Cache-Control") == "no-cache")
                #expect(String(decoding: manifest.body, as: UTF8.self) == #"{"images":[]}"#)
                let unsigned = try await client.fetch(base + "manifest.json.unsigned")
                #expect(unsigned.header("Content-Type") == "application/json")
                #expect(unsigned.header("Cache-Control") == nil)
                let blob = try await client.fetch(base + "blob.bin")
                #expect(blob.header("Content-Type") == "application/octet-stream")
            }
        }
    }

    @Test func rangeRequests() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let bytes = fixture.isoBytes
        let size = bytes.count
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let url = "https://127.0.0.1:\(port)/image/demo/\(ServerFixture.isoName)"
                let cases: [(String, ClosedRange<Int>)] = [
                    ("bytes=0-99", 0...99),
                    ("bytes=1000-", 1000...(size - 1)),
                    ("bytes=-500", (size - 500)...(size - 1)),
                    ("bytes=10-99999999", 10...(size - 1)),
                    ("bytes=-99999999", 0...(size - 1)),
                    ("bytes=262140-262150", 262_140...262_150),
                ]
                for (header, range) in cases {
                    let response = try await client.fetch(url, headers: [("Range", header)])
                    #expect(response.status == 206, "\(header)")
                    #expect(response.header("Content-Range") == "bytes \(range.lowerBound)-\(range.upperBound)/\(size)", "\(header)")
                    #expect(response.header("Content-Length") == String(range.count), "\(header)")
                    #expect(response.body == Array(bytes[range]), "\(header)")
                }
                let head = try await client.fetch(url, method: .HEAD, headers: [("Range", "bytes=0-9")])
                #expect(head.status == 206)
                #expect(head.header("Content-Length") == "10")
                #expect(head.body.isEmpty)
            }
        }
    }

    @Test func unsatisfiableAndMalformedRanges() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let size = fixture.isoBytes.count
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let url = "https://127.0.0.1:\(port)/image/demo/\(ServerFixture.isoName)"
                for header in ["bytes=\(size)-", "bytes=\(size + 5)-\(size + 10)", "bytes=-0"] {
                    let response = try await client.fetch(url, headers: [("Range", header)])
                    #expect(response.status == 416, "\(header)")
                    #expect(response.header("Content-Range") == "bytes */\(size)", "\(header)")
                    #expect(response.body.isEmpty, "\(header)")
                }
                for header in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,5-6", "bytes=--1"] {
                    let response = try await client.fetch(url, headers: [("Range", header)])
                    #expect(response.status == 200, "\(header)")
                    #expect(response.body.count == size, "\(header)")
                }
            }
        }
    }

    @Test func pathsOutsideTheTreeAre404() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let paths = [
            "/image/demo/../secret",
            "/image/demo/%2e%2e/secret",
            "/image/demo/%2E%2E%2Fsecret",
            "/image/demo/..%2fsecret",
            "/image/../demo/x",
            "/image/demo/.hidden",
            "/image/demo/%2ehidden",
            "/image/demo/subdir",
            "/image/demo/to-dir",
            "/image/demo/escape",
            "/image/demo/escape-absolute",
            "/image/other/x",
            "/image/demo/",
            "/image/demo",
            "/image/demo/subdir/../blob.bin",
            "/image/demo/bad%zz",
            "/image/demo/nul%00",
            "/image/%2e%2e/secret",
        ]
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                for path in paths {
                    let response = try await client.fetch("https://127.0.0.1:\(port)\(path)")
                    #expect(response.status == 404, "\(path)")
                    #expect(!response.body.contains(contentsOf: Array(ServerFixture.secretContent.utf8)), "\(path)")
                    // Only the one-line reason, naming the path (as the client sent it); no cause.
                    let text = String(decoding: response.body, as: UTF8.self)
                    #expect(text.hasPrefix("no file at /image/") && text.hasSuffix("\n"), "\(path)")
                    #expect(text.split(separator: "\n").count == 1, "\(path)")
                }
                // A symlink inside the type directory to a file inside it is served.
                let alias = try await client.fetch("https://127.0.0.1:\(port)/image/demo/alias.iso")
                #expect(alias.status == 200)
                #expect(alias.body == fixture.isoBytes)
            }
        }
        // The traversal paths reached the server as sent (the client did not normalise them).
        let logged = fixture.log.messages
        for path in ["/image/demo/../secret", "/image/demo/%2e%2e/secret", "/image/../demo/x"] {
            #expect(logged.contains { $0.hasPrefix("GET \(path) 404") }, "\(path) not seen raw")
        }
    }

    @Test func clientWithoutCertificateFailsTheHandshake() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient(tls: fixture.clientTLS(identity: nil)) { client in
                await #expect(throws: (any Error).self) {
                    _ = try await client.fetch("https://127.0.0.1:\(port)/image/demo/blob.bin")
                }
            }
        }
        #expect(!fixture.log.messages.contains { $0.hasPrefix("GET ") })
    }

    @Test func clientCertificateFromAnotherCAFails() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let stranger = try TestPKI(directory: fixture.directory.join("other-pki"))
        try await fixture.withServer { port in
            let tls = try fixture.clientTLS(identity: stranger.device, intermediatePath: stranger.intermediate.certPath)
            try await fixture.withClient(tls: tls) { client in
                await #expect(throws: (any Error).self) {
                    _ = try await client.fetch("https://127.0.0.1:\(port)/image/demo/blob.bin")
                }
            }
        }
        #expect(!fixture.log.messages.contains { $0.hasPrefix("GET ") })
    }

    @Test func clientCABundleWithIntermediateAccepted() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.clientCAPath = try fixture.bundle("client-ca.pem", [fixture.pki.root.certPath, fixture.pki.intermediate.certPath])
        try await fixture.withServer(configuration) { port in
            try await fixture.withClient { client in
                let response = try await client.fetch("https://127.0.0.1:\(port)/image/demo/blob.bin")
                #expect(response.status == 200)
            }
        }
    }
}

extension Array where Element == UInt8 {
    func contains(contentsOf needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
