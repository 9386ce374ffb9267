import Foundation
import IconCore
import IconProtocol

/// What a machine knows about itself for its reports: hostname, uptime, the image it runs
/// (from `/etc/iconograph.json`) and the image it will boot next (the `current` link).
public struct DeviceFacts: Sendable {
    public var hostname: String
    /// JSON written into every image by the builder: `image_type`, `timestamp`, `volume_id`.
    public var runningImageFile: String
    /// The directory with the ISOs and the `current` link.
    public var imageDir: String
    /// `/proc/uptime`: seconds since boot as the first field.
    public var uptimeFile: String

    public init(
        hostname: String, runningImageFile: String = "/etc/iconograph.json", imageDir: String,
        uptimeFile: String = "/proc/uptime"
    ) {
        self.hostname = hostname
        self.runningImageFile = runningImageFile
        self.imageDir = imageDir
        self.uptimeFile = uptimeFile
    }

    /// The report's fields: every field of the running image file, then `hostname`,
    /// `uptime_seconds`, `next_timestamp`, `next_volume_id` and `status` when given.
    public func reportFields(status: String?, extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if let data = FileManager.default.contents(atPath: runningImageFile),
            case .object(let members)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        {
            fields = members
        }
        fields["hostname"] = .string(hostname)
        if let uptime = uptimeSeconds() {
            fields["uptime_seconds"] = .double(uptime)
        }
        if let next = nextImage() {
            fields["next_timestamp"] = .int(next.timestamp)
            if let volumeID = next.volumeID {
                fields["next_volume_id"] = .string(volumeID)
            }
        }
        if let status {
            fields["status"] = .string(status)
        }
        fields.merge(extra) { _, new in new }
        return fields
    }

    /// The image type of the running image, from its JSON file.
    public var imageType: String? {
        guard let data = FileManager.default.contents(atPath: runningImageFile),
            let value = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return nil }
        return value["image_type"]?.stringValue
    }

    func uptimeSeconds() -> Double? {
        guard let text = try? String(contentsOfFile: uptimeFile, encoding: .utf8),
            let first = text.split(separator: " ").first
        else { return nil }
        return Double(first)
    }

    /// The target of `current` (`<timestamp>.iso`) and its volume id.
    func nextImage() -> (timestamp: Int, volumeID: String?)? {
        let link = "\(imageDir)/current"
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { return nil }
        let name = (target as NSString).lastPathComponent
        guard name.hasSuffix(".iso"), let timestamp = Int(name.dropLast(4)) else { return nil }
        return (timestamp, try? ISO9660.volumeID(atPath: "\(imageDir)/\(name)"))
    }
}
