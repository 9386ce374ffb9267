import Foundation
@testable import IconServer
import IconTestSupport
import NIOHTTP1
import Testing

@Suite struct DashboardRouteTests {
    @Test func servesEveryAssetWithItsTypeAndPolicy() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                for path in DashboardRoutes.paths {
                    let asset = try #require(DashboardAssets.asset(for: path))
                    let response = try await client.fetch("https://localhost:\(port)\(path)")
                    #expect(response.status == 200, "\(path)")
                    #expect(response.body == asset.body, "\(path)")
                    #expect(response.header("content-type") == asset.contentType, "\(path)")
                    #expect(response.header("cache-control") == "no-cache", "\(path)")
                    #expect(response.header("x-content-type-options") == "nosniff", "\(path)")
                    let policy = try #require(response.header("content-security-policy"), "\(path)")
                    #expect(policy.contains("default-src 'self'"), "\(path)")
                    #expect(policy.contains("connect-src 'self' wss:"), "\(path)")
                    #expect(policy.contains("frame-ancestors 'none'"), "\(path)")
                    #expect(!policy.contains("unsafe-inline"), "\(path)")
                }
                let root = try await client.fetch("https://localhost:\(port)/")
                #expect(root.header("content-type") == "text/html; charset=utf-8")
                #expect(String(decoding: root.body, as: UTF8.self).contains("dashboard.js"))
            }
        }
    }

    @Test func headAnswersWithoutABody() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        try await fixture.withServer { port in
            try await fixture.withClient { client in
                let asset = try #require(DashboardAssets.asset(for: "/dashboard.js"))
                let response = try await client.fetch("https://localhost:\(port)/dashboard.js", method: .HEAD)
                #expect(response.status == 200)
                #expect(response.body.isEmpty)
                #expect(response.header("content-length") == String(asset.body.count))
                #expect(response.header("content-type") == "text/javascript; charset=utf-8")
                #expect(try await client.fetch("https://localhost:\(port)/nothing-here.js").status == 404)
            }
        }
    }

    @Test func inlineCodeOfAPageIsAllowedByItsHashOnly() throws {
        let html = """
            <style>b{}</style><button onclick="window.print()">x</button>
            <script src="/a.js"></script><script>go()</script>
            """
        let policy = ContentSecurityPolicy.header(for: Array(html.utf8), isHTML: true)
        #expect(policy.contains("'unsafe-hashes' 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='"))
        #expect(policy.contains("script-src 'self' \(ContentSecurityPolicy.source("go()"))"))
        #expect(policy.contains("style-src 'self' \(ContentSecurityPolicy.source("b{}"))"))
        #expect(ContentSecurityPolicy.header(for: Array(html.utf8), isHTML: false) == ContentSecurityPolicy.base)
        // The label page's inline script and its Print button's handler are covered, nothing else.
        let label = try #require(DashboardAssets.asset(for: "/label.html"))
        let labelHTML = String(decoding: label.body, as: UTF8.self)
        let labelPolicy = ContentSecurityPolicy.header(for: label.body, isHTML: true)
        let script = try #require(ContentSecurityPolicy.inlineBlocks(in: labelHTML, tag: "script").first)
        #expect(labelPolicy.contains("script-src 'self' \(ContentSecurityPolicy.source(script)) 'unsafe-hashes' \(ContentSecurityPolicy.source("window.print()"))"))
        #expect(labelPolicy.hasSuffix("style-src 'self'"))
        // The dashboard itself has no inline code at all.
        let index = try #require(DashboardAssets.asset(for: "/"))
        #expect(!ContentSecurityPolicy.header(for: index.body, isHTML: true).contains("sha256"))
    }
}
