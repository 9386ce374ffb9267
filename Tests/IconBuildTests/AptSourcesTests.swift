import Foundation
import IconTestSupport
import Testing

@testable import IconBuild

@Suite struct AptSourcesTests {
    static let deb822 = """
        Types: deb
        # http://snapshot.example/archive/debian/20250520T000000Z
        URIs: http://mirror.example/debian
        Suites: bookworm bookworm-updates
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb-src
        URIs: http://src.example/debian
        Suites: bookworm
        Components: main

        Types: deb
        URIs: http://disabled.example/debian
        Suites: bookworm
        Components: main
        Enabled: no

        Types: deb
        URIs: http://mirror.example/debian-security
        Suites: bookworm-security
        Components: main contrib
        Signed-By:
         -----BEGIN PGP PUBLIC KEY BLOCK-----
         .
         -----END PGP PUBLIC KEY BLOCK-----
        """

    @Test func parsesDeb822StanzasSkippingSourceAndDisabledOnes() {
        let entries = AptSources.parseDeb822(Self.deb822)
        #expect(entries == [
            .init(types: ["deb"], uris: ["http://mirror.example/debian"], suites: ["bookworm", "bookworm-updates"], components: ["main"]),
            .init(types: ["deb"], uris: ["http://mirror.example/debian-security"], suites: ["bookworm-security"], components: ["main", "contrib"]),
        ])
        let sources = AptSources(entries: entries)
        #expect(sources.mainArchive == "http://mirror.example/debian")
        #expect(sources.securityArchive == "http://mirror.example/debian-security")
    }

    @Test func parsesOneLineFormatWithOptionsAndComments() {
        let text = """
            # a comment
            deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib # trailing
            deb-src http://one.example/debian bookworm main
            deb http://sec.example/debian-security bookworm-security main

            """
        let entries = AptSources.parseOneLine(text)
        #expect(entries.count == 2)
        #expect(entries[0] == .init(uris: ["http://one.example/debian"], suites: ["bookworm"], components: ["main", "contrib"]))
        #expect(AptSources(entries: entries).securityArchive == "http://sec.example/debian-security")
    }

    @Test func loadsBothFormatsBelowARoot() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir.join("etc/apt/sources.list.d"), withIntermediateDirectories: true)
            try "deb http://list.example/debian bookworm main\n".write(toFile: dir.join("etc/apt/sources.list"), atomically: true, encoding: .utf8)
            try Self.deb822.write(toFile: dir.join("etc/apt/sources.list.d/debian.sources"), atomically: true, encoding: .utf8)
            try "ignored".write(toFile: dir.join("etc/apt/sources.list.d/README"), atomically: true, encoding: .utf8)
            let sources = try AptSources.load(root: dir.path)
            #expect(sources.entries.count == 3)
            #expect(sources.mainArchive == "http://list.example/debian")
            #expect(sources.securityArchive == "http://mirror.example/debian-security")
        }
    }

    @Test func emptyRootHasNoArchive() async throws {
        try await withTemporaryDirectory { dir in
            let sources = try AptSources.load(root: dir.path)
            #expect(sources.entries.isEmpty)
            #expect(sources.mainArchive == nil)
        }
    }
}
