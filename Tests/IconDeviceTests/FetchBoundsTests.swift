import Foundation
import Glibc
import IconCore
import IconManifest
@testable import IconTLS
import IconTestSupport
@testable import IconUpdate
import Testing


#if canImport(Glibc)
#endif

/// Hostile or broken servers against the fetcher: a body longer than the image, one that
/// never ends, one that trickles, and a fetch cancelled mid-download. Each ends with a
/// one-line error (or a cancellation), no partial file and the device's state as it was.
@Suite("Fetch bounds")
struct FetchBoundsTests {
    /// A configuration for one of ``TestImageHost/Misbehaviour``'s routes.
    static func configuration(
        _ env: FetchEnvironment, port: Int, _ misbehaviour: TestImageHost.Misbehaviour, stall: Duration = .seconds(60)
    ) -> FetcherConfiguration {
        var configuration = env.configuration(port: port, path: "\(misbehaviour.rawValue)/demo")
        configuration.stall = StallGuard(window: stall)
        return configuration
    }

    static func failure(_ configuration: FetcherConfiguration) async throws -> IconError {
        do {
            _ = try await Fetcher(configuration: configuration).fetch()
        } catch let error as IconError {
            return error
        }
        Issue.record("the fetch should have failed")
        throw CancellationError()
    }

    /// Names in the device directory that are partial downloads or temp files.
    static func leftovers(_ env: FetchEnvironment) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: env.deviceDir)) ?? []
        return names.filter { $0.hasPrefix(".") && $0 != ".fetch.lock" }
    }

    @Test("a body running past the manifest's size stops there, naming the URL and both sizes")
    func anEndlessBodyStopsAtTheManifestSize() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            let size = try env.serverSize(100)
            try env.publish(manifestTimestamp: 1000, sizes: [100: size])
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                let error = try await Self.failure(Self.configuration(env, port: port, .endless))
                let url = "https://127.0.0.1:\(port)/endless/demo/100.iso"
                #expect(error.code == .tooLarge)
                #expect(error.message.hasPrefix("\(url) sent more than the manifest gives for this image: at least "))
                #expect(error.message.hasSuffix(" bytes, the manifest says \(size); not installed"))
                #expect(!error.message.contains("\n"))
                #expect(Self.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
            }
        }
    }

    @Test func aContentLengthOtherThanTheManifestSizeIsRefusedBeforeWriting() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            let size = try env.serverSize(100)
            try env.publish(manifestTimestamp: 1000, sizes: [100: size])
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                let error = try await Self.failure(Self.configuration(env, port: port, .overlong))
                #expect(error.code == .tooLarge)
                #expect(error.message == "https://127.0.0.1:\(port)/overlong/demo/100.iso announces \(2 * size) bytes (Content-Length), but the manifest gives \(size) for this image; not installed")
                #expect(Self.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
            }
        }
    }

    @Test("without sizes in the manifest, --max-image-bytes bounds the download")
    func withoutSizesMaxImageBytesBoundsTheDownload() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                var configuration = Self.configuration(env, port: port, .endless)
                configuration.maxImageBytes = 256 * 1024
                let error = try await Self.failure(configuration)
                #expect(error.code == .tooLarge)
                #expect(error.message.hasPrefix("https://127.0.0.1:\(port)/endless/demo/100.iso sent more than --max-image-bytes 262144: at least "))
                #expect(error.message.contains("the manifest gives no size"))
                #expect(Self.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
                // A Content-Length above the limit is refused before anything is written.
                var small = Self.configuration(env, port: port, .overlong)
                small.maxImageBytes = try env.serverSize(100)
                let announced = try await Self.failure(small)
                #expect(announced.code == .tooLarge)
                #expect(announced.message.contains("more than --max-image-bytes \(try env.serverSize(100))"))
                // The original's manifests (no sizes) still fetch from an honest server.
                let fine = try await Fetcher(configuration: env.configuration(port: port)).fetch()
                #expect(fine.image?.timestamp == 100)
            }
        }
    }

    @Test("a server trickling bytes is cut after the stall window")
    func aTricklingServerIsCut() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000, sizes: [100: try env.serverSize(100)])
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                // A window long enough for the manifest on a busy machine; the trickle (20
                // bytes/s) never makes 64 KiB in it.
                let window = FetchEnvironment.loopbackConnectTimeout / 10
                let error = try await Self.failure(Self.configuration(env, port: port, .trickle, stall: window))
                #expect(error.code == .timeout)
                let url = "https://127.0.0.1:\(port)/trickle/demo/100.iso"
                #expect(error.message.hasPrefix("\(url) stalled: "), "\(error.message)")
                #expect(error.message.contains("(--stall-timeout)"))
                #expect(Self.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
            }
        }
    }

    @Test("a cancelled fetch (SIGINT, SIGTERM) removes its partial download and changes nothing")
    func aCancelledFetchRemovesItsPartialDownload() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                let configuration = Self.configuration(env, port: port, .trickle)
                let fetch = Task { try await Fetcher(configuration: configuration).fetch() }
                // Wait for the partial download to exist (the trickle takes an hour to finish).
                var waited = 0
                while !Self.leftovers(env).contains(where: { $0.hasPrefix(".100.iso.part-") }), waited < 600 {
                    try await Task.sleep(for: .milliseconds(100))
                    waited += 1
                }
                #expect(Self.leftovers(env).count == 1)
                fetch.cancel()
                await #expect(throws: CancellationError.self) { try await fetch.value }
                #expect(Self.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
            }
        }
    }

    @Test("a FIFO named like the image is never opened: the download replaces it")
    func aFIFOInPlaceOfTheImageIsReplaced() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000, sizes: [100: try env.serverSize(100)])
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            try #require(mkfifo("\(env.deviceDir)/100.iso", 0o644) == 0)
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let result = try await Fetcher(configuration: env.configuration(port: port)).fetch()
                #expect(result.image?.downloaded == true)
            }
            #expect(RegularFile.otherKind(atPath: "\(env.deviceDir)/100.iso") == nil)
            #expect(try FileHasher.sha256Hex(ofFileAt: "\(env.deviceDir)/100.iso") == env.serverHash(100))
        }
    }

    @Test("temp files of a killed writer in the image directory are removed; a live writer's stay")
    func staleTempFilesInTheImageDirectoryAreRemoved() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try FileManager.default.createDirectory(atPath: env.deviceDir, withIntermediateDirectories: true)
            let dead = ".manifest.json.tmp-\(try ExitedProcess.pid())-AbC123"
            let live = ".boot-state.json.tmp-\(getpid() == 1 ? 2 : 1)-XyZ789"
            for name in [dead, live] {
                try Data("partial".utf8).write(to: URL(fileURLWithPath: "\(env.deviceDir)/\(name)"))
            }
            let result = try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                try await Fetcher(configuration: env.configuration(port: port)).fetch()
            }
            #expect(result.deletedFiles.contains(dead))
            #expect(!FileManager.default.fileExists(atPath: "\(env.deviceDir)/\(dead)"))
            #expect(FileManager.default.fileExists(atPath: "\(env.deviceDir)/\(live)"))
        }
    }

}
