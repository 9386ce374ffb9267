import AsyncHTTPClient
import Foundation
import IconServer
import IconTestSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

/// A temporary image tree, a test PKI and helpers to run an `ImageServer` and talk to it over mTLS.
struct ServerFixture {
    let directory: TemporaryDirectory
    let pki: TestPKI
    let imagePath: String
    let isoBytes: [UInt8]
    let log = TestLog(level: .info)

    static let isoName = "1700000000.iso"
    /// What the files outside the type directories hold; no response may ever contain it.
    static let secretContent = "top-secret-bytes"

    init() throws {
        directory = try TemporaryDirectory(prefix: "icon-server-test")
        pki = try TestPKI(directory: directory.join("pki"))
        imagePath = directory.join("images")
        let demo = imagePath + "/demo"
        let fm = FileManager.default
        try fm.createDirectory(atPath: demo + "/subdir", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: imagePath + "/other", withIntermediateDirectories: true)
        // Not a multiple of the chunk size, so the last chunk is partial.
        var generator = SystemRandomNumberGenerator()
        isoBytes = (0..<(1_048_576 + 12_345)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(isoBytes).write(to: URL(fileURLWithPath: demo + "/" + Self.isoName))
        try Data(#"{"images":[]}"#.utf8).write(to: URL(fileURLWithPath: demo + "/manifest.json"))
        try Data("unsigned".utf8).write(to: URL(fileURLWithPath: demo + "/manifest.json.unsigned"))
        try Data("blob".utf8).write(to: URL(fileURLWithPath: demo + "/blob.bin"))
        try Data().write(to: URL(fileURLWithPath: demo + "/empty.iso"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: demo + "/.hidden"))
        try Data(Self.secretContent.utf8).write(to: URL(fileURLWithPath: imagePath + "/secret"))
        try Data(Self.secretContent.utf8).write(to: URL(fileURLWithPath: directory.join("secret")))
        try Data("other".utf8).write(to: URL(fileURLWithPath: imagePath + "/other/x"))
        try fm.createSymbolicLink(atPath: demo + "/alias.iso", withDestinationPath: Self.isoName)
        try fm.createSymbolicLink(atPath: demo + "/escape", withDestinationPath: "../../secret")
        try fm.createSymbolicLink(atPath: demo + "/escape-absolute", withDestinationPath: directory.join("secret"))
        try fm.createSymbolicLink(atPath: demo + "/to-dir", withDestinationPath: "subdir")
    }

    func remove() { directory.remove() }

    /// Concatenates PEM files into `name` in the fixture directory (a chain or a CA bundle).
    func bundle(_ name: String, _ paths: [String]) throws -> String {
        let path = directory.join(name)
        let text = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Server settings: the server certificate followed by the intermediate, clients checked against the root.
    ///
    /// The handshake and header timeouts are a minute instead of 10 s: under the parallel suite on
    /// a loaded machine a handshake can take longer, and no test here is about them (those that
    /// are set their own, see `ConnectionLimitsTests`).
    func configuration() throws -> ImageServerConfiguration {
        var configuration = ImageServerConfiguration(
            host: "127.0.0.1", port: 0, imagePath: imagePath, imageTypes: ["demo"],
            certificateChainPath: try bundle("server-chain.pem", [pki.server.certPath, pki.intermediate.certPath]), privateKeyPath: pki.server.keyPath,
            clientCAPath: pki.root.certPath, logger: log.logger())
        configuration.connectionLimits.tlsHandshakeTimeout = TestTiming.duration(.seconds(60))
        configuration.connectionLimits.requestHeaderTimeout = TestTiming.duration(.seconds(60))
        return configuration
    }

    /// Starts the server on an ephemeral port, runs `body` with the port, then stops the server.
    @discardableResult
    func withServer<T: Sendable>(
        _ configuration: ImageServerConfiguration? = nil, _ body: (Int) async throws -> T
    ) async throws -> T {
        let ports = Loopback.Ports()
        let server = try ImageServer(configuration: configuration ?? self.configuration()) { ports.report($0) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }))
        return try await ports.serve({ try await group.run() }, body)
    }

    /// Client TLS settings: trust the test root and present `identity` (with the intermediate), or no certificate.
    func clientTLS(identity: TestPKI.Identity?, intermediatePath: String? = nil) throws -> TLSConfiguration {
        try clientTLS(identity: identity, chainPaths: [intermediatePath ?? pki.intermediate.certPath])
    }

    /// Client TLS settings presenting `identity` followed by the certificates of `chainPaths`
    /// (none: the leaf alone, as a browser sends a certificate imported from PKCS#12).
    func clientTLS(identity: TestPKI.Identity?, chainPaths: [String]) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
        if let identity {
            let chain = try ([identity.certPath] + chainPaths).flatMap { try NIOSSLCertificate.fromPEMFile($0) }
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: identity.keyPath, format: .pem))
        }
        return tls
    }

    /// Runs `body` with an HTTP client using `tls`. A refused handshake fails at once (no retry of
    /// the connection); a slow one, on a busy machine, has 30 s (scaled by ``TestTiming``).
    @discardableResult
    func withClient<T>(tls: TLSConfiguration? = nil, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration(tlsConfiguration: try tls ?? clientTLS(identity: pki.device))
        configuration.timeout.connect = .seconds(Int64(TestTiming.seconds(30)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return try await HTTPClient.withHTTPClient(configuration: configuration, body)
    }
}

/// A response reduced to what tests check.
struct FetchedResponse: Sendable {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

extension HTTPClient {
    /// Sends a request and collects the whole body (up to 16 MiB).
    func fetch(
        _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = []
    ) async throws -> FetchedResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await execute(request, timeout: .seconds(Int64(TestTiming.seconds(30))))
        let body = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for (name, value) in response.headers { fields[name.lowercased()] = value }
        return FetchedResponse(status: Int(response.status.code), headers: fields, body: Array(buffer: body))
    }
}
