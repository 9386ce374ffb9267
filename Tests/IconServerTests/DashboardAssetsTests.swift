import Foundation
@testable import IconServer
import Testing

@Suite struct DashboardAssetsTests {
    @Test(arguments: DashboardRoutes.paths)
    func everyAssetIsServedWithItsType(path: String) throws {
        let asset = try #require(DashboardAssets.asset(for: path))
        #expect(!asset.body.isEmpty)
        let expected = path.hasSuffix(".css") ? "text/css" : path.hasSuffix(".js") ? "text/javascript" : "text/html"
        #expect(asset.contentType.hasPrefix(expected))
    }

    @Test func unknownPathsAreNotAssets() {
        #expect(DashboardAssets.asset(for: "/../etc/passwd") == nil)
        #expect(DashboardAssets.asset(for: "/dashboard.js.map") == nil)
    }

    static func text(_ path: String) throws -> String {
        String(decoding: try #require(DashboardAssets.asset(for: path), "\(path)").body, as: UTF8.self)
    }

    @Test func pagesLoadNothingFromOtherHosts() throws {
        for path in DashboardRoutes.paths {
            let text = try Self.text(path)
            #expect(!text.contains("src=\"http"), "\(path) references another host")
            #expect(!text.contains("https://"), "\(path) references another host")
            #expect(!text.contains("//cdn"), "\(path) references a CDN")
        }
    }

    /// Every `<script src>`, stylesheet and module `import` of the pages is a path the server answers.
    @Test func everyFileThePagesLoadIsServed() throws {
        let references = [
            /<script[^>]* src="([^"]+)"/, /<link rel="stylesheet" href="([^"]+)"/, /from "\.(\/[a-z0-9-]+\.js)"/,
        ]
        var found: Set<String> = []
        for path in DashboardRoutes.paths {
            let text = try Self.text(path)
            for pattern in references {
                for match in text.matches(of: pattern) { found.insert(String(match.output.1)) }
            }
        }
        #expect(found.isSuperset(of: ["/dashboard.js", "/dashboard.css", "/code39.js", "/view.js", "/fleet.js"]), "\(found)")
        for path in found { #expect(DashboardAssets.asset(for: path) != nil, "\(path) is referenced but not served") }
        // And nothing is served that no page uses.
        let pages: Set<String> = ["/", "/index.html", "/label.html"]
        #expect(Set(DashboardRoutes.paths).subtracting(pages) == found)
    }

    /// Data reaches the page as text only: no HTML parsing of anything at run time.
    @Test func scriptsNeverParseHTML() throws {
        for path in DashboardRoutes.paths where path.hasSuffix(".js") || path.hasSuffix(".html") {
            let text = try Self.text(path)
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                #expect(!text.contains(sink), "\(path) uses \(sink)")
            }
        }
    }
}
