import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconManifest

#if canImport(Glibc)
import Glibc
#endif

/// What counts as an image, and the refusal of a directory without any.
@Suite struct ImageScanTests {
    static func touch(_ path: String) throws {
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
    }

    static func refusal(_ directory: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IconError {
        let error = try #require(throws: IconError.self, sourceLocation: sourceLocation) {
            try ManifestBuilder(imageDirectory: directory).build(now: Date())
        }
        #expect(
            error.message.hasPrefix("no images to publish in \(directory), so nothing was written: "), "\(error)",
            sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        return error
    }

    @Test func emptyDirectoryIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            try Self.touch(dir.join("notes.txt"))
            let error = try Self.refusal(dir.path)
            #expect(error.code == .notFound)
            #expect(error.message.contains("it holds no <unix-timestamp>.iso file"))
        }
    }

    @Test func misnamedImagesAreRefusedWithTheRename() async throws {
        try await withTemporaryDirectory { dir in
            for name in ["robot-v1.iso", "robot-v2.iso", "1700000000.ISO", ".hidden.iso"] { try Self.touch(dir.join(name)) }
            let error = try Self.refusal(dir.path)
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("skipped 1700000000.ISO, robot-v1.iso, robot-v2.iso (names must be <digits>.iso"), "\(error)")
            #expect(error.message.contains("e.g. rename 1700000000.ISO to <unix-timestamp>.iso"))
            #expect(!error.message.contains(".hidden.iso"))
        }
    }

    @Test func parentDirectoryPointsAtItsImageTypes() async throws {
        try await withTemporaryDirectory { dir in
            for type in ["robot", "kiosk", "empty", ".cache"] {
                try FileManager.default.createDirectory(atPath: dir.join(type), withIntermediateDirectories: true)
            }
            try DemoImages.add(timestamp: 1_700_000_000, into: dir.join("robot"))
            try DemoImages.add(timestamp: 1_700_000_001, into: dir.join("kiosk"))
            try DemoImages.add(timestamp: 1_700_000_002, into: dir.join(".cache"))
            let error = try Self.refusal(dir.path)
            #expect(error.code == .notFound)
            #expect(
                error.message.contains("did you mean --image-dir \(dir.join("kiosk")) or --image-dir \(dir.join("robot"))?"),
                "\(error)")
            #expect(!error.message.contains(".cache"))
        }
    }

    @Test func misnamedFilesBesideImagesAreSkippedAndReported() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.add(timestamp: 1_700_000_000, into: dir.path)
            try Self.touch(dir.join("robot-v1.iso"))
            let result = try ManifestBuilder(imageDirectory: dir.path).build(now: Date())
            #expect(result.manifest.images.map(\.timestamp) == [1_700_000_000])
            #expect(result.skipped == [ImageScan.Skipped(path: dir.join("robot-v1.iso"), reason: ImageScan.misnamedReason)])
        }
    }

    @Test func directoryNamedLikeAnImageIsSkipped() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir.join("1700000000.iso"), withIntermediateDirectories: true)
            let error = try Self.refusal(dir.path)
            #expect(error.message.contains("skipped 1700000000.iso (it is a directory, not an ISO file)"), "\(error)")
        }
    }

    @Test(.timeLimit(.minutes(1))) func aFIFONamedLikeAnImageIsSkippedUnopened() async throws {
        try await withTemporaryDirectory { dir in
            try DemoImages.add(timestamp: 1_700_000_000, into: dir.path)
            try #require(mkfifo(dir.join("1800000000.iso"), 0o644) == 0)
            let result = try ManifestBuilder(imageDirectory: dir.path).build(now: Date())
            #expect(result.manifest.images.map(\.timestamp) == [1_700_000_000])
            #expect(result.skipped == [ImageScan.Skipped(path: dir.join("1800000000.iso"), reason: "it is a FIFO, not a regular file")])
        }
    }
}
