import IconCore
import IconTestSupport
import Testing

@testable import IconBuild
import Foundation

@Suite struct ImageBuildOptionsTests {
    static let host = AptSources(entries: [
        .init(uris: ["http://host.example/debian"], suites: ["bookworm", "bookworm-updates"], components: ["main"]),
        .init(uris: ["http://host.example/debian-security"], suites: ["bookworm-security"], components: ["main"]),
    ])

    func options(_ flavor: Flavor = .debian, release: String = "bookworm", archive: String? = nil) -> ImageBuildOptions {
        ImageBuildOptions(
            imageDirectory: "/srv/images", imageType: "server", release: release, archive: archive,
            flavor: flavor, packages: ["openssh-server", "live-boot"], timestamp: 1_700_000_000)
    }

    @Test func debianSourcesComeFromTheHostMirror() throws {
        #expect(try options().sourceLines(host: Self.host) == [
            "deb http://host.example/debian bookworm main",
            "deb http://host.example/debian bookworm-updates main",
            "deb http://host.example/debian-security bookworm-security main",
        ])
    }

    @Test func anExplicitArchiveServesEverySuiteUnlessASecurityArchiveIsGiven() throws {
        #expect(try options(archive: "http://mine.example/debian").sourceLines(host: Self.host).allSatisfy {
            $0.hasPrefix("deb http://mine.example/debian ")
        })
        var withSecurity = options(archive: "http://mine.example/debian")
        withSecurity.securityArchive = "http://sec.example/ds"
        #expect(try withSecurity.sourceLines(host: Self.host).last == "deb http://sec.example/ds bookworm-security main")
    }

    @Test func ubuntuNeedsAnArchiveAndGetsAllSections() throws {
        let error = try #require(throws: IconError.self) { try options(.ubuntu, release: "noble").sourceLines(host: Self.host) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--archive"))
        #expect(try options(.ubuntu, release: "noble", archive: "http://u.example/ubuntu").sourceLines(host: Self.host) == [
            "deb http://u.example/ubuntu noble main restricted universe multiverse",
            "deb http://u.example/ubuntu noble-updates main restricted universe multiverse",
        ])
    }

    @Test func noHostMirrorNamesTheFlag() throws {
        let error = try #require(throws: IconError.self) { try options().sourceLines(host: AptSources(entries: [])) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--archive"))
    }

    @Test func packagesAreBasePlusExtraWithoutDuplicates() {
        let packages = options().allPackages
        #expect(packages.first == "linux-image-amd64")
        #expect(packages.last == "openssh-server")
        #expect(packages.filter { $0 == "live-boot" }.count == 1)
    }

    @Test func defaultVolumeIDAndIsoPath() {
        #expect(options().volumeID == "ICON_SERVER_1700000000")
        #expect(options().isoPath == "/srv/images/server/1700000000.iso")
        let long = ImageBuildOptions.defaultVolumeID(imageType: "a-very-long-image-type-name-indeed", timestamp: 1_700_000_000)
        #expect(long.count == 32)
        #expect(long.hasSuffix("_1700000000"))
        #expect(long.hasPrefix("ICON_A_VERY_LONG"))
    }

    @Test func validationNamesTheFlag() throws {
        var bad = options()
        bad.volumeID = String(repeating: "V", count: 33)
        expectIconError(.invalidArgument) { try bad.validate() }
        #expect((try? { try bad.validate() }()) == nil)
        bad = options()
        bad.compression = "brotli"
        let error = try #require(throws: IconError.self) { try bad.validate() }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--compression"))
        bad = options()
        bad.imageType = "../etc"
        let typeError = try #require(throws: IconError.self) { try bad.validate() }
        #expect(typeError.code == .invalidArgument)
        #expect(typeError.message.contains("--image-type"))
        bad = options()
        bad.packages = ["two words"]
        expectIconError(.invalidArgument) { try bad.validate() }
        try options().validate()
    }

    @Test func imageInfoJSONMatchesTheOriginalKeys() throws {
        let json = String(decoding: try ImageInfo(options: options()).json(), as: UTF8.self)
        #expect(json.contains("\"image_type\" : \"server\""))
        #expect(json.contains("\"timestamp\" : 1700000000"))
        #expect(json.contains("\"volume_id\" : \"ICON_SERVER_1700000000\""))
        #expect(json.hasSuffix("}\n"))
        // Sorted keys.
        let imageType = try #require(json.range(of: "image_type"))
        let volume = try #require(json.range(of: "volume_id"))
        #expect(imageType.lowerBound < volume.lowerBound)
    }
}
