import Foundation
import IconServer
import Testing

@Suite struct DashboardAssetsTests {
    @Test(arguments: ["/", "/index.html", "/dashboard.css", "/dashboard.js", "/label.html", "/code39.js"])
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

    @Test func pagesLoadNothingFromOtherHosts() throws {
        for path in ["/", "/dashboard.js", "/label.html", "/code39.js", "/dashboard.css"] {
            let text = String(decoding: try #require(DashboardAssets.asset(for: path)).body, as: UTF8.self)
            #expect(!text.contains("http://") || !text.contains("src=\"http"), "\(path) references another host")
            #expect(!text.contains("https://"), "\(path) references another host")
            #expect(!text.contains("//cdn"), "\(path) references a CDN")
        }
    }
}
