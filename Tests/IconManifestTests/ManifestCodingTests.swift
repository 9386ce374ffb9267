import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconManifest

@Suite struct ManifestCodingTests {
    static let unsignedPath = CompatVectors.path("images/demo/manifest.json.unsigned")

    @Test func decodesOriginalUnsignedManifest() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.unsignedPath))
        let manifest = try Manifest.decode(data, source: Self.unsignedPath)
        #expect(manifest.timestamp == 1_795_747_935)
        #expect(manifest.images.map(\.timestamp) == [1_700_000_000, 1_459_629_717, 1_459_629_471])
        #expect(manifest.images.map(\.volumeID) == ["Iconograph 2023-11-14", "ICON_DEMO_B", "ICON_DEMO_A"])
        #expect(manifest.images.allSatisfy { $0.rollout == 2500 })
        #expect(manifest.images[0].hash == "0132c883f119a0cb554c0b88095134b22bc435ed7102020e7f2028a80abb975c")
    }

    @Test func reencodingIsByteIdenticalToOriginal() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.unsignedPath))
        let manifest = try Manifest.decode(data, source: Self.unsignedPath)
        #expect(manifest.encoded() == data)
    }

    @Test func encodingMatchesSignedInnerText() throws {
        struct Wrapper: Decodable { let inner: String }
        let path = CompatVectors.path("images/demo/manifest.json")
        let wrapper = try JSONDecoder().decode(Wrapper.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let manifest = try Manifest.decode(Data(wrapper.inner.utf8), source: path)
        #expect(manifest.encodedText() == wrapper.inner)
        let unsigned = try String(contentsOfFile: Self.unsignedPath, encoding: .utf8)
        #expect(wrapper.inner == unsigned)
    }

    @Test func escapesLikePython() throws {
        // Expected text from: json.dumps(..., sort_keys=True, indent=4) + "\n" in Python 3.
        let manifest = Manifest(
            timestamp: 7,
            images: [ManifestImage(timestamp: 1, hash: "h", volumeID: "é😀\u{1}\u{7f}/\"\\\n\t", rollout: 0)])
        let expected = """
            {
                "images": [
                    {
                        "hash": "h",
                        "rollout_\\u2031": 0,
                        "timestamp": 1,
                        "volume_id": "\\u00e9\\ud83d\\ude00\\u0001\\u007f/\\"\\\\\\n\\t"
                    }
                ],
                "timestamp": 7
            }

            """
        #expect(manifest.encodedText() == expected)
        let back = try Manifest.decode(manifest.encoded(), source: "test")
        #expect(back == manifest)
    }

    @Test func emptyManifestLikePython() {
        #expect(Manifest(timestamp: 1, images: []).encodedText() == "{\n    \"images\": [],\n    \"timestamp\": 1\n}\n")
    }

    @Test func malformedJSONNamesTheSource() {
        expectIconError(.malformed) { try Manifest.decode(Data("{\"images\": 3}".utf8), source: "/x/manifest.json") }
        do {
            _ = try Manifest.decode(Data("nope".utf8), source: "/x/manifest.json")
        } catch let error as IconError {
            #expect(error.code == .malformed)
            #expect(error.message.contains("/x/manifest.json"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
