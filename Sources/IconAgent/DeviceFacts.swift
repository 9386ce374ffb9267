import Foundation
import IconCore
public import IconProtocol
import IconUpdate

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

    /// The report: every field of the running image file (`image_type`, `timestamp`,
    /// `volume_id` and any others), then `hostname`, `uptime_seconds`, `next_timestamp`,
    /// `next_volume_id`, `status` when given, `icon_version`, `manifest_expires` and `min_timestamp`
    /// of the stored manifest and floor, and `good_images`, `bad_images`, `last_rollback`
    /// from the image directory's `boot-state.json` when it exists.
    public func report(status: String?, extra: [String: JSONValue] = [:]) -> ReportData {
        var data = ReportData()
        if let contents = FileManager.default.contents(atPath: runningImageFile),
            let running = try? JSONDecoder().decode(ReportData.self, from: contents)
        {
            data = running
        }
        data.hostname = hostname
        data.uptimeSeconds = uptimeSeconds().map { Int($0) }
        if let next = nextImage() {
            data.nextTimestamp = next.timestamp
            data.nextVolumeID = next.volumeID
        }
        data.status = status
        data.iconVersion = IconVersion.string
        let directory = ImageDirectory(path: imageDir)
        data.manifestExpires = directory.storedManifestExpires
        data.minTimestamp = directory.floor()
        if let state = try? BootState.load(imageDir: imageDir),
            FileManager.default.fileExists(atPath: BootState.path(imageDir: imageDir))
        {
            data.goodImages = state.good
            data.badImages = state.bad
            data.lastRollback = state.lastRollback
        }
        data.extra.merge(extra) { _, new in new }
        return data
    }

    /// The image type of the running image, from its JSON file.
    public var imageType: String? {
        guard let data = FileManager.default.contents(atPath: runningImageFile) else { return nil }
        return (try? JSONDecoder().decode(ReportData.self, from: data))?.imageType
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
