import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconManifest

/// The optional `size` of an image entry: written where Python's sort_keys puts it, absent in
/// the original's manifests, which still decode.
@Suite struct ManifestSizeTests {
    /// `text` re-dumped by Python 3 as the original writes manifests.
    static func pythonDump(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys; sys.stdout.write(json.dumps(json.load(sys.stdin), sort_keys=True, indent=4) + '\\n')"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test("size sorts between rollout_\u{2031} and timestamp, byte for byte as Python writes it")
    func sizeIsEncodedAsPythonSortsIt() throws {
        let manifest = Manifest(
            timestamp: 1_800_000_000,
            images: [
                ManifestImage(timestamp: 1_799_999_999, hash: String(repeating: "a", count: 64), volumeID: "Ünï ‱", rollout: 42, size: 1_234_567_890_123),
                ManifestImage(timestamp: 1_700_000_000, hash: String(repeating: "b", count: 64), volumeID: "OLD", rollout: 0),
            ])
        let text = manifest.encodedText()
        #expect(text == (try Self.pythonDump(text)))
        #expect(text.contains("\"rollout_\\u2031\": 42,\n            \"size\": 1234567890123,\n            \"timestamp\": 1799999999,"))
        let decoded = try Manifest.decode(Data(text.utf8), source: "t")
        #expect(decoded == manifest)
        #expect(decoded.images.map(\.size) == [1_234_567_890_123, nil])
    }

    @Test func theOriginalsManifestsHaveNoSizesAndStillDecode() throws {
        let data = try DemoImages.read(CompatVectors.path("images/demo/manifest.json.unsigned"))
        let manifest = try Manifest.decode(data, source: "compat")
        #expect(manifest.images.allSatisfy { $0.size == nil })
        #expect(manifest.encoded() == data)
    }

    @Test func aNegativeOrNonIntegerSizeIsRefused() throws {
        func refusal(_ size: String) throws -> String {
            let text = #"{"images": [{"hash": "h", "rollout_\u2031": 1, "size": \#(size), "timestamp": 1, "volume_id": "v"}], "timestamp": 2}"#
            let error = try #require(throws: IconError.self) { try Manifest.decode(Data(text.utf8), source: "m.json") }
            #expect(error.code == .malformed)
            return error.message
        }
        #expect(try refusal("-1") == "m.json is not a valid manifest: \"images[0].size\" is negative")
        #expect(try refusal("\"12\"").hasPrefix("m.json is not a valid manifest: "))
        #expect(try refusal("1.5").hasPrefix("m.json is not a valid manifest: "))
    }

    @Test("publish records every image's size; a later publish adds it to kept entries without one")
    func publishRecordsSizes() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let images = dir.join("images")
            try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
            try DemoImages.copy(into: images)
            // The original's unsigned manifest (no sizes) as the previous one.
            try FileManager.default.copyItem(
                atPath: CompatVectors.path("images/demo/manifest.json.unsigned"), toPath: "\(images)/manifest.json.unsigned")
            let result = try await Publisher.publish(
                imageDir: images, certPath: pki.signer.certPath, keyPath: pki.signer.keyPath,
                otherCertPaths: [pki.chainPath], defaultRollout: 2500, now: Date())
            #expect(result.manifest.images.count == 3)
            for image in result.manifest.images {
                #expect(image.size == (try DemoImages.size("\(images)/\(image.fileName)")), "\(image.timestamp)")
            }
            let stored = try Manifest.decode(DemoImages.read("\(images)/manifest.json.unsigned"), source: "u")
            #expect(stored == result.manifest)
        }
    }
}
