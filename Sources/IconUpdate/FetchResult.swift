import Foundation

/// What one run of the ``Fetcher`` did.
public struct FetchResult: Sendable, Equatable {
    /// The image the device should boot, or nil when the manifest offers none to this host
    /// (all rollouts exclude it); then nothing was downloaded and `current` is unchanged.
    public var image: FetchedImage?
    /// The timestamp of the manifest that was verified and stored.
    public var manifestTimestamp: Int
    /// The ISO files deleted to honour `maxImages`, and stale partial downloads removed.
    public var deletedFiles: [String]
    /// The grub.cfg rewritten because a boot directory was configured.
    public var bootMenuPath: String?
    /// True when `onlyNewerManifest` found the stored manifest current and did nothing.
    public var unchanged: Bool
    /// When the manifest expires, set only when that is less than ``expiryWarningSeconds``
    /// after the fetch: the publisher must sign it again soon or machines will refuse it.
    public var expiresSoon: Int?

    /// How close to its expiry a manifest gets a warning: one day.
    public static let expiryWarningSeconds = 86_400

    public init(
        image: FetchedImage?, manifestTimestamp: Int, deletedFiles: [String], bootMenuPath: String? = nil, unchanged: Bool = false
    ) {
        self.image = image
        self.manifestTimestamp = manifestTimestamp
        self.deletedFiles = deletedFiles
        self.bootMenuPath = bootMenuPath
        self.unchanged = unchanged
    }

    /// One line for a person: what was chosen, whether it was downloaded, how fast.
    public var summary: String {
        if unchanged { return "manifest \(manifestTimestamp) is the one already applied; nothing to do" + expiryNote }
        guard let image else {
            return "manifest \(manifestTimestamp) offers no image to this host; nothing to do" + expiryNote
        }
        var text: String
        if image.downloaded {
            let megabytes = Double(image.bytes) / 1_000_000
            let rate = image.seconds > 0 ? megabytes / image.seconds : 0
            text = "downloaded \(image.path) (\(image.volumeID)): "
                + String(format: "%.1f MB in %.2f s, %.1f MB/s", megabytes, image.seconds, rate)
        } else {
            text = "\(image.path) (\(image.volumeID)) already present and verified"
        }
        text += "; current -> \(image.timestamp).iso"
        if !deletedFiles.isEmpty {
            text += "; deleted \(deletedFiles.joined(separator: ", "))"
        }
        if let bootMenuPath {
            text += "; wrote \(bootMenuPath)"
        }
        return text + expiryNote
    }

    /// The warning a summary ends with when the manifest expires within a day.
    var expiryNote: String {
        guard let expiresSoon else { return "" }
        let when = Date(timeIntervalSince1970: TimeInterval(expiresSoon)).formatted(.iso8601)
        return "; warning: manifest \(manifestTimestamp) expires at \(when) (\(expiresSoon)), within a day: sign it again"
    }
}

/// The image a fetch settled on.
public struct FetchedImage: Sendable, Equatable {
    /// The image timestamp (its file is `<timestamp>.iso`).
    public var timestamp: Int
    /// The ISO 9660 volume id the manifest gives.
    public var volumeID: String
    /// The SHA-256 (hex) the file was checked against.
    public var sha256: String
    /// The ISO's path in the image directory.
    public var path: String
    /// True when it was downloaded now; false when a verified copy was already there.
    public var downloaded: Bool
    /// Bytes downloaded (0 when already present).
    public var bytes: Int
    /// Seconds the download took (0 when already present).
    public var seconds: Double

    public init(
        timestamp: Int, volumeID: String, sha256: String, path: String, downloaded: Bool, bytes: Int, seconds: Double
    ) {
        self.timestamp = timestamp
        self.volumeID = volumeID
        self.sha256 = sha256
        self.path = path
        self.downloaded = downloaded
        self.bytes = bytes
        self.seconds = seconds
    }
}

/// Progress of a running download, reported at most about once a second.
public struct FetchProgress: Sendable {
    /// The URL being downloaded.
    public var url: String
    /// Bytes received so far.
    public var received: Int
    /// Bytes expected (Content-Length), if the server said.
    public var total: Int?
    /// Seconds since the download started.
    public var elapsed: Double

    /// e.g. `1459629717.iso: 42% 512.0 MB, 610.3 MB/s`.
    public var line: String {
        let name = (url as NSString).lastPathComponent
        let megabytes = Double(received) / 1_000_000
        let rate = elapsed > 0 ? megabytes / elapsed : 0
        if let total, total > 0 {
            let percent = Double(received) * 100 / Double(total)
            return "\(name): " + String(format: "%3.0f%% %.1f MB, %.1f MB/s", percent, megabytes, rate)
        }
        return "\(name): " + String(format: "%.1f MB, %.1f MB/s", megabytes, rate)
    }
}
