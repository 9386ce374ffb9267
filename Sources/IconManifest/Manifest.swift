public import Foundation
import IconCore

/// The list of published images of one image directory: the `inner` text of a signed
/// manifest and the content of `manifest.json.unsigned`.
public struct Manifest: Codable, Hashable, Sendable {
    /// When the manifest was made, in seconds since the epoch. Devices refuse a manifest
    /// older than the one they hold, so this only ever increases.
    public var timestamp: Int
    /// The images, newest first.
    public var images: [ManifestImage]
    /// When the manifest stops being valid, in seconds since the epoch: machines refuse it at
    /// that second and later (a replayed or frozen manifest ages out). Nil, as in the
    /// original's manifests, never expires.
    public var expires: Int?
    /// The version floor: machines never switch to an image older than the highest floor any
    /// manifest they accepted named (they keep it on BOOT). Nil in the original's manifests.
    public var minTimestamp: Int?

    public init(timestamp: Int, images: [ManifestImage], expires: Int? = nil, minTimestamp: Int? = nil) {
        self.timestamp = timestamp
        self.images = images
        self.expires = expires
        self.minTimestamp = minTimestamp
    }

    enum CodingKeys: String, CodingKey {
        case timestamp
        case images
        case expires
        case minTimestamp = "min_timestamp"
    }

    /// Whether the manifest has expired at `now`: `expires` is that second or earlier.
    public func isExpired(at now: Date) -> Bool {
        guard let expires else { return false }
        return Int(now.timeIntervalSince1970.rounded(.down)) >= expires
    }

    /// Parses manifest JSON as the original or this tool writes it.
    ///
    /// - Parameter source: names the file or URL in the error message.
    /// - Throws: `IconError.Code.malformed` naming `source`.
    public static func decode(_ data: Data, source: String) throws -> Manifest {
        switch parse(data) {
        case .success(let manifest):
            return manifest
        case .failure(let problem):
            throw IconError(.malformed, "\(source) is not a valid manifest: \(problem.phrase)", cause: problem.cause)
        }
    }

    /// Why manifest text was refused: a phrase for a one-line message and the decoder's error.
    struct Problem: Error {
        var phrase: String
        var cause: (any Error)?
    }

    /// Decodes manifest JSON strictly: the text must be JSON without duplicate keys (see
    /// ``JSONKeyScan``), every image listed once, every image size must be 0 or more.
    static func parse(_ data: Data) -> Result<Manifest, Problem> {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            return .failure(Problem(phrase: DecodingProblem.describe(error), cause: error))
        }
        switch JSONKeyScan.scan(data) {
        case .clean: break
        case .duplicate(let key, let path):
            return .failure(Problem(phrase: JSONKeyScan.describe(key: key, path: path) + JSONKeyScan.ambiguity))
        case .invalid(let reason):
            return .failure(Problem(phrase: "it is not strict JSON: \(reason)"))
        }
        var seen: Set<Int> = []
        if let twice = manifest.images.first(where: { !seen.insert($0.timestamp).inserted }) {
            // Two entries for one ISO file, with two hashes: which one counts would be up to
            // the reader. No publisher writes this (one entry per file).
            return .failure(Problem(phrase: "image \(twice.timestamp) is listed twice"))
        }
        if let index = manifest.images.firstIndex(where: { ($0.size ?? 0) < 0 }) {
            return .failure(Problem(phrase: "\"images[\(index)].size\" is negative"))
        }
        if let expires = manifest.expires, expires < 0 {
            return .failure(Problem(phrase: "\"expires\" is negative"))
        }
        if let floor = manifest.minTimestamp, floor < 0 {
            return .failure(Problem(phrase: "\"min_timestamp\" is negative"))
        }
        return .success(manifest)
    }

    /// The manifest as the original writes it: Python's
    /// `json.dumps(manifest, sort_keys=True, indent=4)` plus a final newline, non-ASCII
    /// characters escaped as `\uXXXX`; an image's `size`, when known, sorts between
    /// `rollout_\u2031` and `timestamp` as Python would put it. Byte-identical output keeps `manifest.json.unsigned`
    /// diffs clean when a site switches tools, and it is also the signed `inner` text. The
    /// optional `expires` and `min_timestamp`, when set, sort where Python would put them
    /// (before `images`, and between `images` and `timestamp`).
    public func encodedText() -> String {
        var out = "{\n"
        if let expires {
            out += "    \"expires\": \(expires),\n"
        }
        if images.isEmpty {
            out += "    \"images\": [],\n"
        } else {
            out += "    \"images\": [\n"
            for (index, image) in images.enumerated() {
                out += "        {\n"
                out += "            \"hash\": \(PythonJSON.quote(image.hash)),\n"
                out += "            \(PythonJSON.quote(ManifestImage.CodingKeys.rollout.rawValue)): \(image.rollout),\n"
                if let size = image.size {
                    out += "            \"size\": \(size),\n"
                }
                out += "            \"timestamp\": \(image.timestamp),\n"
                out += "            \"volume_id\": \(PythonJSON.quote(image.volumeID))\n"
                out += index == images.count - 1 ? "        }\n" : "        },\n"
            }
            out += "    ],\n"
        }
        if let minTimestamp {
            out += "    \"min_timestamp\": \(minTimestamp),\n"
        }
        out += "    \"timestamp\": \(timestamp)\n}\n"
        return out
    }

    /// `encodedText()` as UTF-8 bytes (pure ASCII in fact).
    public func encoded() -> Data { Data(encodedText().utf8) }
}
