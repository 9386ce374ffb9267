import Foundation
import IconCore

/// The list of published images of one image directory: the `inner` text of a signed
/// manifest and the content of `manifest.json.unsigned`.
public struct Manifest: Codable, Hashable, Sendable {
    /// When the manifest was made, in seconds since the epoch. Devices refuse a manifest
    /// older than the one they hold, so this only ever increases.
    public var timestamp: Int
    /// The images, newest first.
    public var images: [ManifestImage]

    public init(timestamp: Int, images: [ManifestImage]) {
        self.timestamp = timestamp
        self.images = images
    }

    /// Parses manifest JSON as the original or this tool writes it.
    ///
    /// - Parameter source: names the file or URL in the error message.
    /// - Throws: `IconError.Code.malformed` naming `source`.
    public static func decode(_ data: Data, source: String) throws -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw IconError(.malformed, "\(source) is not a valid manifest: \(DecodingProblem.describe(error))", cause: error)
        }
    }

    /// The manifest as the original writes it: Python's
    /// `json.dumps(manifest, sort_keys=True, indent=4)` plus a final newline, non-ASCII
    /// characters escaped as `\uXXXX`. Byte-identical output keeps `manifest.json.unsigned`
    /// diffs clean when a site switches tools, and it is also the signed `inner` text.
    public func encodedText() -> String {
        var out = "{\n"
        if images.isEmpty {
            out += "    \"images\": [],\n"
        } else {
            out += "    \"images\": [\n"
            for (index, image) in images.enumerated() {
                out += "        {\n"
                out += "            \"hash\": \(PythonJSON.quote(image.hash)),\n"
                out += "            \(PythonJSON.quote(ManifestImage.CodingKeys.rollout.rawValue)): \(image.rollout),\n"
                out += "            \"timestamp\": \(image.timestamp),\n"
                out += "            \"volume_id\": \(PythonJSON.quote(image.volumeID))\n"
                out += index == images.count - 1 ? "        }\n" : "        },\n"
            }
            out += "    ],\n"
        }
        out += "    \"timestamp\": \(timestamp)\n}\n"
        return out
    }

    /// `encodedText()` as UTF-8 bytes (pure ASCII in fact).
    public func encoded() -> Data { Data(encodedText().utf8) }
}
