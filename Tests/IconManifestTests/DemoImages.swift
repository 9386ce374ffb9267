import Foundation
import IconManifest
import IconTestSupport

/// Copies of the compat demo ISOs in a temp directory, for tests that change them.
enum DemoImages {
    static let timestamps = [1_459_629_471, 1_459_629_717, 1_700_000_000]

    /// Copies the three demo ISOs (not the manifests) into `directory`.
    static func copy(into directory: String) throws {
        for timestamp in timestamps {
            try FileManager.default.copyItem(
                atPath: CompatVectors.path("images/demo/\(timestamp).iso"), toPath: "\(directory)/\(timestamp).iso")
        }
    }

    /// Adds an ISO named `<timestamp>.iso` (a copy of demo image A).
    static func add(timestamp: Int, into directory: String) throws {
        try FileManager.default.copyItem(
            atPath: CompatVectors.path("images/demo/1459629471.iso"), toPath: "\(directory)/\(timestamp).iso")
    }

    static func read(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// The length of the file at `path`.
    static func size(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }
}

extension ManifestImage {
    /// The entry as the original writes it: without `size`.
    var withoutSize: ManifestImage {
        var image = self
        image.size = nil
        return image
    }
}
