import HTTPTypes
import IconCore
@testable import IconServer
import Testing

@Suite struct ImagePathResolverTests {
    @Test func safeComponents() {
        #expect(ImagePathResolver.isSafeComponent("1700000000.iso"))
        #expect(ImagePathResolver.isSafeComponent("manifest.json"))
        for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "a\0b"] {
            #expect(!ImagePathResolver.isSafeComponent(bad), "\(bad)")
        }
    }

    @Test func percentDecoding() {
        #expect(ImagePathResolver.percentDecode("%2e%2E") == "..")
        #expect(ImagePathResolver.percentDecode("a%20b") == "a b")
        #expect(ImagePathResolver.percentDecode("plain") == "plain")
        #expect(ImagePathResolver.percentDecode("bad%zz") == nil)
        #expect(ImagePathResolver.percentDecode("short%2") == nil)
        #expect(ImagePathResolver.percentDecode("%ff%fe") == nil)
    }

    @Test func resolvesOnlyFilesDirectlyInTheTypeDirectory() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let resolver = ImagePathResolver(imagePath: fixture.imagePath, imageTypes: ["demo"])
        let iso = try #require(resolver.resolve(rawPath: "/image/demo/\(ServerFixture.isoName)"))
        #expect(iso.size == fixture.isoBytes.count)
        #expect(iso.fileName == ServerFixture.isoName)
        let alias = try #require(resolver.resolve(rawPath: "/image/demo/alias.iso"))
        #expect(alias.realPath == iso.realPath)
        #expect(alias.fileName == "alias.iso")
        for path in ["/image/demo/escape", "/image/demo/to-dir", "/image/demo/../secret", "/image/other/x", "/images/demo/blob.bin", "image/demo/blob.bin"] {
            #expect(resolver.resolve(rawPath: path) == nil, "\(path)")
        }
    }

    @Test func contentTypesAndStatuses() {
        #expect(ImageRoutes.contentType(for: "1.ISO") == "application/x-iso9660-image")
        #expect(ImageRoutes.contentType(for: "manifest.json") == "application/json")
        #expect(ImageRoutes.contentType(for: "manifest.json.unsigned") == "application/json")
        #expect(ImageRoutes.contentType(for: "README") == "application/octet-stream")
        #expect(RequestLogMiddleware.status(for: .notFound) == .notFound)
        #expect(RequestLogMiddleware.status(for: .permission) == .forbidden)
        #expect(RequestLogMiddleware.status(for: .io) == .internalServerError)
    }
}
