public import Foundation
import Glibc
public import IconTLS

#if canImport(Glibc)
#endif

/// Everything one run of the ``Fetcher`` needs: where to download from, what to trust and
/// where to keep the images.
public struct FetcherConfiguration: Sendable {
    /// The image type's directory on the server, e.g. `https://host:8443/image/demo`;
    /// `manifest.json` and `<timestamp>.iso` are fetched relative to it.
    public var baseURL: String
    /// PEM file of the CA certificates a manifest signer must chain to (`--ca-cert`).
    public var manifestTrustRoots: String
    /// Directory holding `manifest.json`, `<timestamp>.iso` and the `current` link.
    public var imageDir: String
    /// PEM file of the CAs that may sign the HTTPS server certificate; nil = system roots.
    public var httpsCACert: String?
    /// PEM client certificate presented for mutual TLS.
    public var httpsClientCert: String?
    /// PEM private key of `httpsClientCert`.
    public var httpsClientKey: String?
    /// When set, `<bootDir>/grub/grub.cfg` is rewritten after a successful fetch
    /// (`imageDir` must be inside it).
    public var bootDir: String?
    /// How many ISOs to keep; 0 keeps them all.
    public var maxImages: Int
    /// The name the rollout rule hashes.
    public var hostname: String
    /// Download exactly this image instead of following the rollout rule.
    public var forcedTimestamp: Int?
    /// JSON file with a `timestamp` field naming the image the machine runs; may be absent.
    public var runningImageFile: String
    /// Image timestamps never to choose (known bad images).
    public var excludedTimestamps: Set<Int>
    /// Do nothing when the server's manifest is the one already stored (the last one a fetch
    /// completed): the agent's check on connecting catches up on missed pushes and resumes an
    /// interrupted download, but must not undo an operator's choice of image.
    public var onlyNewerManifest = false
    /// Boot tries a newly switched-to image gets before GRUB falls back to the last good
    /// image (1 to `BootSafety.maxBootTries`); used when `bootDir` is set.
    public var bootTries: Int
    /// How long to wait for a TCP connection and TLS handshake.
    public var connectTimeout: Duration
    /// The largest `manifest.json` accepted, in bytes.
    public var maxManifestBytes: Int
    /// The most bytes an image download may have when the manifest gives no `size` for it
    /// (manifests of the original and of earlier versions); with a size, that is the limit.
    public var maxImageBytes: Int
    /// Cuts a download (of the manifest or an image) that makes too little progress.
    public var stall: StallGuard
    /// The clock used for certificate validity.
    public var now: @Sendable () -> Date
    /// How many valid signatures from distinct signers a manifest needs (`--signature-threshold`);
    /// 1 checks the original's single signature.
    public var signatureThreshold = 1

    public init(
        baseURL: String,
        manifestTrustRoots: String,
        imageDir: String,
        httpsCACert: String? = nil,
        httpsClientCert: String? = nil,
        httpsClientKey: String? = nil,
        bootDir: String? = nil,
        maxImages: Int = 5,
        hostname: String = FetcherConfiguration.systemHostname(),
        forcedTimestamp: Int? = nil,
        runningImageFile: String = "/etc/iconograph.json",
        excludedTimestamps: Set<Int> = [],
        bootTries: Int = 1,
        connectTimeout: Duration = .seconds(5),
        maxManifestBytes: Int = 1 << 20,
        maxImageBytes: Int = FetcherConfiguration.defaultMaxImageBytes,
        stall: StallGuard = StallGuard(window: FetcherConfiguration.defaultStallTimeout),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.baseURL = baseURL
        self.manifestTrustRoots = manifestTrustRoots
        self.imageDir = imageDir
        self.httpsCACert = httpsCACert
        self.httpsClientCert = httpsClientCert
        self.httpsClientKey = httpsClientKey
        self.bootDir = bootDir
        self.maxImages = maxImages
        self.hostname = hostname
        self.forcedTimestamp = forcedTimestamp
        self.runningImageFile = runningImageFile
        self.excludedTimestamps = excludedTimestamps
        self.bootTries = bootTries
        self.connectTimeout = connectTimeout
        self.maxManifestBytes = maxManifestBytes
        self.maxImageBytes = maxImageBytes
        self.stall = stall
        self.now = now
    }

    /// `--max-image-bytes` by default: 16 GiB.
    public static let defaultMaxImageBytes = 16 << 30
    /// `--stall-timeout` by default.
    public static let defaultStallTimeout: Duration = .seconds(60)

    /// This machine's host name as `gethostname(2)` gives it, like the original's
    /// `socket.gethostname()`; the rollout rule hashes exactly this.
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The HTTPS trust and client files, named by their `icon fetch` flags.
    public var tlsFiles: ClientTLSFiles {
        ClientTLSFiles(caCertPath: httpsCACert, clientCertPath: httpsClientCert, clientKeyPath: httpsClientKey)
    }

    /// `baseURL` joined with one file name, with exactly one slash between them.
    func url(of file: String) -> String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(file)"
    }
}
