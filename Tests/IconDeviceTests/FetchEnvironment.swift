import Foundation
import IconCore
import IconDevice
import IconTestSupport

/// A temp directory with a test PKI, a server-side image directory, a device image directory
/// and helpers to publish manifests and to snapshot the device's state.
struct FetchEnvironment: Sendable {
    let temp: TemporaryDirectory
    let pki: TestPKI
    var serverDir: String { temp.join("server") }
    var deviceDir: String { temp.join("device") }
    var runningFile: String { temp.join("iconograph.json") }

    init() throws {
        temp = try TemporaryDirectory(prefix: "icon-fetch")
        pki = try TestPKI(directory: temp.join("pki"))
        try FileManager.default.createDirectory(atPath: temp.join("server"), withIntermediateDirectories: true)
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
    func publish(manifestTimestamp: Int, rollouts: [Int: Int] = [:]) throws {
        try TestPublisher.publish(
            imageDir: serverDir, manifestTimestamp: manifestTimestamp, rollouts: rollouts, pki: pki)
    }

    /// A configuration for the loopback server on `port`, with the device's client certificate.
    func configuration(port: Int, path: String = "image/demo") -> FetcherConfiguration {
        FetcherConfiguration(
            baseURL: "https://127.0.0.1:\(port)/\(path)",
            manifestTrustRoots: pki.root.certPath,
            imageDir: deviceDir,
            httpsCACert: pki.root.certPath,
            httpsClientCert: pki.device.certPath,
            httpsClientKey: pki.device.keyPath,
            hostname: "device-1",
            runningImageFile: runningFile,
            connectTimeout: .seconds(2))
    }

    /// Every entry of the device directory: file name → SHA-256 of a file, or `-> target` of
    /// a link. Two equal snapshots mean the device's state did not change.
    func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: deviceDir)) ?? []
        for name in names {
            let path = "\(deviceDir)/\(name)"
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                result[name] = "-> \(target)"
            } else {
                result[name] = (try? FileHasher.sha256Hex(ofFileAt: path)) ?? "?"
            }
        }
        return result
    }

    /// SHA-256 of a server-side ISO.
    func serverHash(_ timestamp: Int) throws -> String {
        try FileHasher.sha256Hex(ofFileAt: "\(serverDir)/\(timestamp).iso")
    }
}
