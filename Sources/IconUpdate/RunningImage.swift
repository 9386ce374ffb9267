import Foundation

/// Which image the machine booted, as the image build records it in `/etc/iconograph.json`
/// (`{"timestamp": 1459629717, ...}`).
public enum RunningImage {
    /// The `timestamp` field of the JSON file at `path`; nil when the file is absent or has
    /// no such integer field (a machine not booted from an Iconograph image).
    public static func timestamp(fromFile path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        if let value = object["timestamp"] as? Int { return value }
        if let text = object["timestamp"] as? String { return Int(text) }
        return nil
    }
}
