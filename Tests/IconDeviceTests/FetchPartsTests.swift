import Foundation
import IconCore
import IconTestSupport
@testable import IconUpdate
import NIOCore
import Testing


@Suite("Fetcher parts")
struct FetchPartsTests {
    @Test func isoNamesAreDigitsDotISOOnly() {
        #expect(ImageDirectory.timestamp(ofISONamed: "1459629717.iso") == 1_459_629_717)
        #expect(ImageDirectory.timestamp(ofISONamed: ".1459629717.iso.part-abc") == nil)
        #expect(ImageDirectory.timestamp(ofISONamed: "current") == nil)
        #expect(ImageDirectory.timestamp(ofISONamed: ".iso") == nil)
        #expect(ImageDirectory.timestamp(ofISONamed: "12a.iso") == nil)
        #expect(ImageDirectory.timestamp(ofISONamed: "١٢.iso") == nil)
    }

    @Test func pruneKeepsProtectedEvenWhenOldest() throws {
        try withTemporaryDirectoryThrowing { dir in
            for timestamp in [10, 20, 30, 40] {
                try Data().write(to: URL(fileURLWithPath: dir.join("\(timestamp).iso")))
            }
            let images = ImageDirectory(path: dir.path)
            #expect(images.prune(maxImages: 2, protected: [10, 40]) == ["20.iso", "30.iso"])
            #expect(images.isoTimestamps() == [10, 40])
            // Protected images may leave more than maxImages behind; nothing else is deleted.
            #expect(images.prune(maxImages: 1, protected: [10, 40]).isEmpty)
            #expect(images.isoTimestamps() == [10, 40])
        }
    }

    @Test func currentLinkIsRelativeAndReplaced() throws {
        try withTemporaryDirectoryThrowing { dir in
            let images = ImageDirectory(path: dir.path)
            #expect(images.currentTimestamp() == nil)
            try images.setCurrent(10)
            try images.setCurrent(20)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.join("current")) == "20.iso")
            #expect(images.currentTimestamp() == 20)
        }
    }

    @Test func runningImageFile() throws {
        try withTemporaryDirectoryThrowing { dir in
            let path = dir.join("iconograph.json")
            #expect(RunningImage.timestamp(fromFile: path) == nil)
            try Data(#"{"timestamp": 1459629717, "volume_id": "X"}"#.utf8).write(to: URL(fileURLWithPath: path))
            #expect(RunningImage.timestamp(fromFile: path) == 1_459_629_717)
            try Data(#"{"timestamp": "1459629471"}"#.utf8).write(to: URL(fileURLWithPath: path))
            #expect(RunningImage.timestamp(fromFile: path) == 1_459_629_471)
            try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
            #expect(RunningImage.timestamp(fromFile: path) == nil)
        }
    }

    @Test func baseURLJoinsWithOneSlash() {
        for base in ["https://h:8443/image/demo", "https://h:8443/image/demo/", "https://h:8443/image/demo//"] {
            let configuration = FetcherConfiguration(baseURL: base, manifestTrustRoots: "r", imageDir: "d")
            #expect(configuration.url(of: "manifest.json") == "https://h:8443/image/demo/manifest.json")
        }
    }

    @Test func progressLineShowsPercentAndRate() {
        let progress = FetchProgress(url: "https://h/image/demo/100.iso", received: 50_000_000, total: 200_000_000, elapsed: 2)
        #expect(progress.line == "100.iso:  25% 50.0 MB, 25.0 MB/s")
        let unknown = FetchProgress(url: "https://h/image/demo/100.iso", received: 1_000_000, total: nil, elapsed: 1)
        #expect(unknown.line == "100.iso: 1.0 MB, 1.0 MB/s")
    }

    @Test func summaryNamesWhatHappened() {
        let image = FetchedImage(
            timestamp: 100, volumeID: "V", sha256: "ab", path: "/b/100.iso", downloaded: true, bytes: 10_000_000, seconds: 2)
        let result = FetchResult(image: image, manifestTimestamp: 5, deletedFiles: ["1.iso"], bootMenuPath: "/b/grub/grub.cfg")
        #expect(result.summary == "downloaded /b/100.iso (V): 10.0 MB in 2.00 s, 5.0 MB/s; current -> 100.iso; deleted 1.iso; wrote /b/grub/grub.cfg")
    }

    @Test func secondFetchInSameDirectoryIsRefused() throws {
        try withTemporaryDirectoryThrowing { dir in
            let images = ImageDirectory(path: dir.path)
            let first = try ImageDirectoryLock(directory: images)
            var message = ""
            do {
                _ = try ImageDirectoryLock(directory: images)
            } catch let error as IconError {
                message = error.message
            }
            #expect(message.contains("another fetch is running in \(dir.path)"))
            first.release()
            try ImageDirectoryLock(directory: images).release()
        }
    }

    @Test func abandonedWriterLeavesNoTempFile() throws {
        try withTemporaryDirectoryThrowing { dir in
            do {
                var writer = try ImageFileWriter(finalPath: dir.join("100.iso"))
                try writer.append(.init(bytes: [1, 2, 3]))
                var code: IconError.Code?
                do {
                    try writer.commit(expectedSHA256: String(repeating: "0", count: 64), url: "u")
                } catch let error as IconError {
                    code = error.code
                }
                #expect(code == .hashMismatch)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
    }
}

/// Synchronous variant of IconTestSupport's `withTemporaryDirectory`.
func withTemporaryDirectoryThrowing(_ body: (TemporaryDirectory) throws -> Void) throws {
    let dir = try TemporaryDirectory(prefix: "icon-fetch-unit")
    defer { dir.remove() }
    try body(dir)
}
