import Foundation
import IconCore
import IconTestSupport
import IconUpdate

/// A temp directory with a test PKI, a server-side image directory, a device image directory
/// and helpers to publish manifests and to snapshot the device's state.
struct FetchEnvironment: Sendable {
    let temp: TemporaryDirectory
    let pki: TestPKI
    /// The served image directory; its name is the image type.
    var serverDir: String { temp.join("server/demo") }
    /// The device's boot partition; the images live in `iconograph/` inside it.
    var bootDir: String { temp.join("boot") }
    var deviceDir: String { temp.join("boot/iconograph") }
    var grubConfig: String { temp.join("boot/grub/grub.cfg") }
    var runningFile: String { temp.join("iconograph.json") }

    init() throws {
        temp = try TemporaryDirectory(prefix: "icon-fetch")
        pki = try TestPKI(directory: temp.join("pki"))
        try FileManager.default.createDirectory(atPath: temp.join("server/demo"), withIntermediateDirectories: true)
        // The device presents its certificate with the intermediate: servers trust the root only.
        let chain = try String(contentsOfFile: pki.device.certPath, encoding: .utf8)
            + "\n" + String(contentsOfFile: pki.intermediate.certPath, encoding: .utf8)
        try chain.write(toFile: temp.join("device-chain.pem"), atomically: true, encoding: .utf8)
    }

    /// Runs `body` with a fresh environment that is removed afterwards.
    static func with<T>(_ body: (FetchEnvironment) async throws -> T) async throws -> T {
        let environment = try FetchEnvironment()
        defer { environment.temp.remove() }
        return try await body(environment)
    }

    /// Writes `<timestamp>.iso` into the server directory.
    func makeImage(_ timestamp: Int, size: Int = 64 * 1024) throws {
        try MiniISO.write(
            to: "\(serverDir)/\(timestamp).iso", volumeID: "TEST_\(timestamp)", payloadSize: size,
            seed: UInt64(timestamp))
    }

    /// Publishes `manifest.json` over the server directory's ISOs with the given rollouts
    /// (default 10000 = everyone).
    /// `sizes` gives the images' `size` fields (none by default, as the original publishes).
    func publish(
        manifestTimestamp: Int, rollouts: [Int: Int] = [:], signer: TestPKI.Identity? = nil, chain: String? = nil,
        sizes: [Int: Int]? = nil, expires: Int? = nil, minTimestamp: Int? = nil, crls: [String] = []
    ) throws {
        try TestPublisher.publish(
            imageDir: serverDir, manifestTimestamp: manifestTimestamp, rollouts: rollouts,
            signer: signer ?? pki.signer, chain: chain ?? pki.chainPath, sizes: sizes, expires: expires,
            minTimestamp: minTimestamp, crls: crls)
    }

    /// The length of a server-side ISO.
    func serverSize(_ timestamp: Int) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(serverDir)/\(timestamp).iso")
        return (attributes[.size] as? NSNumber)?.intValue ?? -1
    }

    /// A configuration for the loopback server on `port`, with the device's client certificate.
    func configuration(port: Int, path: String = "image/demo") -> FetcherConfiguration {
        FetcherConfiguration(
            baseURL: "https://127.0.0.1:\(port)/\(path)",
            manifestTrustRoots: pki.root.certPath,
            imageDir: deviceDir,
            httpsCACert: pki.root.certPath,
            httpsClientCert: temp.join("device-chain.pem"),
            httpsClientKey: pki.device.keyPath,
            bootDir: bootDir,
            hostname: "device-1",
            runningImageFile: runningFile,
            connectTimeout: Self.loopbackConnectTimeout)
    }

    /// The connect (and TLS handshake) timeout of loopback fetches in tests: generous, since a
    /// loopback connect either succeeds or is refused at once, and under heavy load (QEMU
    /// beside the tests) a 2 s handshake deadline was seen to pass. Scaled by
    /// `ICON_TEST_SLOWDOWN` (``TestTiming``).
    static var loopbackConnectTimeout: Duration {
        TestTiming.duration(.seconds(30))
    }

    /// Every entry of the device directory: file name → SHA-256 of a file, or `-> target` of
    /// a link, plus `grub.cfg` when present. Two equal snapshots mean the device's state did
    /// not change.
    func snapshot() -> [String: String] {
        DirectorySnapshot.take(deviceDir, files: [grubConfig])
    }

    /// SHA-256 of a server-side ISO.
    func serverHash(_ timestamp: Int) throws -> String {
        try FileHasher.sha256Hex(ofFileAt: "\(serverDir)/\(timestamp).iso")
    }
}
