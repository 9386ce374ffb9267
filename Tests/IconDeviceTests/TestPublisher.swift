import Foundation
import IconCore
import IconTestSupport

/// Writes a signed `manifest.json` for the ISOs of a directory.
/// TEMPORARY: writes the wrapper with an empty signature until IconManifest's Publisher lands.
enum TestPublisher {
    static func publish(imageDir: String, manifestTimestamp: Int, rollouts: [Int: Int], pki: TestPKI) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: imageDir)
        let timestamps = names.compactMap { $0.hasSuffix(".iso") ? Int($0.dropLast(4)) : nil }.sorted(by: >)
        var images: [[String: Any]] = []
        for timestamp in timestamps {
            images.append([
                "timestamp": timestamp,
                "hash": try FileHasher.sha256Hex(ofFileAt: "\(imageDir)/\(timestamp).iso"),
                "volume_id": "TEST_\(timestamp)",
                "rollout_\u{2031}": rollouts[timestamp] ?? 10000,
            ])
        }
        let inner = String(
            decoding: try JSONSerialization.data(
                withJSONObject: ["timestamp": manifestTimestamp, "images": images], options: [.sortedKeys]),
            as: UTF8.self)
        let wrapper: [String: Any] = ["cert": "", "other_certs": [String](), "sig": "", "inner": inner]
        try JSONSerialization.data(withJSONObject: wrapper).write(to: URL(fileURLWithPath: "\(imageDir)/manifest.json"))
    }
}
