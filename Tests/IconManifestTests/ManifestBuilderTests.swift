import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconManifest

@Suite struct ManifestBuilderTests {
    static let compatUnsigned = CompatVectors.path("images/demo/manifest.json.unsigned")

    @Test func buildsTheOriginalsImagesFromTheDemoDirectory() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            // Files the scan must ignore.
            for name in [".1800000000.iso", "1800000000.iso.tmp-abc", "notes.txt", "12a.iso", ".iso", "current"] {
                try Data("x".utf8).write(to: URL(fileURLWithPath: dir.join(name)))
            }
            let builder = ManifestBuilder(imageDirectory: dir.path, configuration: .init(defaultRollout: 2500))
            let result = try builder.build(now: Date(timeIntervalSince1970: 1_795_747_935))
            let original = try Manifest.decode(DemoImages.read(Self.compatUnsigned), source: "compat")
            // The original's entries, plus each file's size.
            #expect(result.manifest.images.map(\.withoutSize) == original.images)
            #expect(result.manifest.images.map(\.size) == (try result.manifest.images.map { try DemoImages.size(dir.join($0.fileName)) }))
            let withoutSizes = Manifest(timestamp: result.manifest.timestamp, images: result.manifest.images.map(\.withoutSize))
            #expect(withoutSizes.encoded() == (try DemoImages.read(Self.compatUnsigned)))
            #expect(result.sources.values.allSatisfy { $0 == .hashed })
            #expect(result.excess.isEmpty)
            // Only the visible .iso file that is not <digits>.iso is reported.
            #expect(result.skipped.map(\.path) == [dir.join("12a.iso")])
        }
    }

    @Test func keepsPreviousEntriesAndHashesOnlyNewImages() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            // A previous manifest with a fake hash and an edited rollout for an existing image,
            // and an entry for an ISO that is gone.
            let fake = ManifestImage(timestamp: 1_459_629_717, hash: String(repeating: "f", count: 64), volumeID: "EDITED", rollout: 9000)
            let gone = ManifestImage(timestamp: 1_400_000_000, hash: "00", volumeID: "GONE", rollout: 10_000)
            try Manifest(timestamp: 1_800_000_000, images: [fake, gone]).encoded().write(to: URL(fileURLWithPath: dir.join("manifest.json.unsigned")))
            let builder = ManifestBuilder(imageDirectory: dir.path, configuration: .init(defaultRollout: 100))
            let result = try builder.build(now: Date(timeIntervalSince1970: 1_700_000_000))
            let images = result.manifest.images
            #expect(images.map(\.timestamp) == [1_700_000_000, 1_459_629_717, 1_459_629_471])
            // Kept as it was; the size it lacked comes from the file.
            #expect(images[1].withoutSize == fake)
            #expect(images[1].size == (try DemoImages.size(dir.join("1459629717.iso"))))
            #expect(images[0].rollout == 100 && images[2].rollout == 100)
            #expect(images[0].volumeID == "Iconograph 2023-11-14")
            #expect(result.sources == [1_700_000_000: .hashed, 1_459_629_717: .kept, 1_459_629_471: .hashed])
            // The clock is behind the previous manifest: the timestamp still increases.
            #expect(result.manifest.timestamp == 1_800_000_001)
        }
    }

    @Test func maxImagesDeletesTheOldest() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            try DemoImages.add(timestamp: 1_800_000_000, into: dir.path)
            let builder = ManifestBuilder(imageDirectory: dir.path, configuration: .init(defaultRollout: 0, maxImages: 2))
            let result = try builder.build(now: Date(timeIntervalSince1970: 1_900_000_000))
            #expect(result.manifest.images.map(\.timestamp) == [1_800_000_000, 1_700_000_000])
            #expect(result.excess == [dir.join("1459629717.iso"), dir.join("1459629471.iso")])
            // Nothing is deleted until the caller has written the manifest.
            #expect(FileManager.default.fileExists(atPath: dir.join("1459629471.iso")))
            try ManifestBuilder.deleteExcess(result.excess)
            #expect(!FileManager.default.fileExists(atPath: dir.join("1459629471.iso")))
            #expect(!FileManager.default.fileExists(atPath: dir.join("1459629717.iso")))
            #expect(FileManager.default.fileExists(atPath: dir.join("1800000000.iso")))
        }
    }

    @Test func zeroMaxImagesKeepsAll() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            let result = try ManifestBuilder(imageDirectory: dir.path, configuration: .init(maxImages: 0)).build(now: Date())
            #expect(result.manifest.images.count == 3)
            #expect(result.excess.isEmpty)
        }
    }

    @Test func timestampIncreasesWithinOneSecond() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.copy(into: dir.path)
            let builder = ManifestBuilder(imageDirectory: dir.path)
            let now = Date(timeIntervalSince1970: 1_800_000_000.25)
            let first = try builder.build(now: now)
            #expect(first.manifest.timestamp == 1_800_000_000)
            try first.manifest.encoded().write(to: URL(fileURLWithPath: dir.join("manifest.json.unsigned")))
            let second = try builder.build(now: now)
            #expect(second.manifest.timestamp == 1_800_000_001)
        }
    }

    @Test func rejectsBadArguments() async throws {
        try await withTemporaryDirectory { dir in
            expectIconError(.invalidArgument) {
                try ManifestBuilder(imageDirectory: dir.path, configuration: .init(defaultRollout: 10_001)).build(now: Date())
            }
            expectIconError(.invalidArgument) {
                try ManifestBuilder(imageDirectory: dir.path, configuration: .init(maxImages: -1)).build(now: Date())
            }
            do {
                _ = try ManifestBuilder(imageDirectory: dir.join("missing")).build(now: Date())
                Issue.record("expected an error")
            } catch let error as IconError {
                #expect(error.code == .notFound)
                #expect(error.message.contains(dir.join("missing")))
            }
        }
    }

    @Test func fileNameRule() {
        #expect(ManifestBuilder.timestamp(ofFileName: "1459629471.iso") == 1_459_629_471)
        #expect(ManifestBuilder.timestamp(ofFileName: "0.iso") == 0)
        for name in ["a.iso", ".iso", "1.iso.tmp", "-1.iso", "+1.iso", "1.ISO", " 1.iso", "١.iso"] {
            #expect(ManifestBuilder.timestamp(ofFileName: name) == nil, "\(name)")
        }
    }
}
