import AsyncHTTPClient
import Foundation
import Hummingbird
import IconBoot
import IconCore
@testable import IconMachineTools
@testable import IconTLS
import IconTestSupport
@testable import IconUpdate
import Logging
import NIOSSL
import Testing

/// What `icon fetch` (and the agent's updates, `icon image`, `fetch-archive`) say for the
/// usual mistakes, against real servers: one sentence naming the URL or file, with the fix,
/// and nothing from the libraries inside.
@Suite struct FetcherNetworkErrorTests {
    /// Text that must never reach a user.
    static let internals = [
        "SingleConnectionFailure", "HTTPClientError", "NIOSSL", "BoringSSL", "OPENSSL_internal", ".cc:", "checkouts",
        "The operation could not be completed", "IOError", "errno", "NIOConnectionError",
    ]

    static func expectClean(_ error: IconError, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in internals {
            #expect(!error.description.contains(text), "\(error.description)", sourceLocation: sourceLocation)
        }
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    }

    /// Fetches with `configuration` and returns the error.
    static func failure(_ configuration: FetcherConfiguration) async throws -> IconError {
        do {
            _ = try await Fetcher(configuration: configuration).fetch()
        } catch let error as IconError {
            expectClean(error)
            return error
        }
        Issue.record("the fetch should have failed")
        throw CancellationError()
    }

    @Test func plainHTTPToTheHTTPSPortSaysUseHTTPS() async throws {
        try await FetchEnvironment.with { env in
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var configuration = env.configuration(port: port)
                configuration.baseURL = "http://127.0.0.1:\(port)/image/demo"
                let error = try await Self.failure(configuration)
                #expect(error.code == .network)
                #expect(error.message == "http://127.0.0.1:\(port)/image/demo/manifest.json: the server closed the connection without answering; if it speaks HTTPS (as icon server does), use https://")
            }
        }
    }

    @Test("a fetch that fails before a verified manifest creates nothing, not even the image directory")
    func aFailedFetchLeavesNoTrace() async throws {
        try await FetchEnvironment.with { env in
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var configuration = env.configuration(port: port, path: "image/nosuchtype")
                configuration.imageDir = env.temp.join("fresh/iconograph")
                configuration.bootDir = nil
                let error = try await Self.failure(configuration)
                #expect(error.code == .notFound)
                #expect(!FileManager.default.fileExists(atPath: env.temp.join("fresh")))
                configuration.baseURL = "http://127.0.0.1:\(port)/image/demo"
                _ = try await Self.failure(configuration)
                #expect(!FileManager.default.fileExists(atPath: env.temp.join("fresh")))
            }
        }
    }

    @Test func httpsToAPlainHTTPPortSaysUseHTTP() async throws {
        try await FetchEnvironment.with { env in
            let router = Router()
            router.get("/image/demo/manifest.json") { _, _ in "{}" }
            let ports = Loopback.Ports()
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { ports.report($0.localAddress?.port ?? 0) },
                logger: Logger(label: "plain-http") { _ in SwiftLogNoOpLogHandler() })
            try await ports.serve({ try await app.run() }) { port in
                let error = try await Self.failure(env.configuration(port: port))
                #expect(error.code == .tls)
                #expect(error.message == "https://127.0.0.1:\(port)/image/demo/manifest.json: the server does not speak TLS on 127.0.0.1:\(port); if it serves plain HTTP, use http://")
            }
        }
    }

    @Test func aBaseURLWithoutTheImageTypeSaysSo() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let error = try await Self.failure(env.configuration(port: port, path: ""))
                #expect(error.code == .notFound)
                #expect(error.message == "https://127.0.0.1:\(port)/manifest.json does not exist on the server (HTTP 404); --base-url must name the image type, e.g. https://127.0.0.1:\(port)/image/<type>")
                // A base URL that names a type the server lacks is a plain 404.
                let other = try await Self.failure(env.configuration(port: port, path: "image/nope"))
                #expect(other.message == "https://127.0.0.1:\(port)/image/nope/manifest.json does not exist on the server (HTTP 404)")
            }
        }
    }

    @Test func refusedConnectionsAndUnknownHosts() async throws {
        try await FetchEnvironment.with { env in
            let refused = try await Self.failure(env.configuration(port: 1))
            #expect(refused.code == .network)
            #expect(refused.message == "https://127.0.0.1:1/image/demo/manifest.json: connection refused (is the server running and listening on 127.0.0.1:1?)")
            var configuration = env.configuration(port: 1)
            configuration.baseURL = "https://no-such-host.invalid/image/demo"
            let unknown = try await Self.failure(configuration)
            #expect(unknown.code == .network)
            #expect(unknown.message == "https://no-such-host.invalid/image/demo/manifest.json: unknown host no-such-host.invalid (check the name, or give an IP address)")
        }
    }

    @Test func untrustedServerAndRefusedClientCertificatesNameTheFlags() async throws {
        try await FetchEnvironment.with { env in
            let other = try TestPKI(directory: env.temp.join("other-pki"))
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                var untrusted = env.configuration(port: port)
                untrusted.httpsCACert = other.root.certPath
                let error = try await Self.failure(untrusted)
                #expect(error.code == .tls)
                #expect(error.message == "https://127.0.0.1:\(port)/image/demo/manifest.json: the server's certificate is not trusted: it does not chain to --https-ca-cert \(other.root.certPath) (or is expired)")
                // A client certificate from a CA the server does not know.
                var stranger = env.configuration(port: port)
                stranger.httpsClientCert = other.device.certPath
                stranger.httpsClientKey = other.device.keyPath
                let refused = try await Self.failure(stranger)
                #expect(refused.code == .tls)
                #expect(refused.message.hasPrefix(
                    "https://127.0.0.1:\(port)/image/demo/manifest.json: the server refused our client certificate (--https-client-cert \(other.device.certPath))"),
                    "\(refused.message)")
                // None at all.
                var anonymous = env.configuration(port: port)
                anonymous.httpsClientCert = nil
                anonymous.httpsClientKey = nil
                let missing = try await Self.failure(anonymous)
                #expect(missing.message.hasSuffix("the server requires a client certificate: give --https-client-cert and --https-client-key"), "\(missing.message)")
            }
        }
    }

    @Test func aMismatchedKeyIsFoundBeforeConnecting() async throws {
        try await FetchEnvironment.with { env in
            // Port 1: a fetch that connected would fail with connection refused instead.
            var configuration = env.configuration(port: 1)
            configuration.httpsClientKey = env.pki.signer.keyPath
            let error = try await Self.failure(configuration)
            #expect(error.code == .badKey)
            #expect(error.message == "--https-client-key \(env.pki.signer.keyPath) does not match --https-client-cert \(env.temp.join("device-chain.pem")): the key is not the one the certificate was issued for")
            #expect(!FileManager.default.fileExists(atPath: env.deviceDir))
            // fetch-archive takes the same check.
            let archive = ArchiveFetcher(url: "https://127.0.0.1:1/a.tar", destination: env.temp.path, tls: configuration.tlsFiles)
            let archiveError = await #expect(throws: IconError.self) { _ = try await archive.run() }
            #expect(archiveError?.code == .badKey)
        }
    }

    @Test func aHostsOwnBootMenuStopsTheFetchBeforeAnything() async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            let debian = "#\n# DO NOT EDIT THIS FILE\n#\n# It is automatically generated by grub-mkconfig using templates\n"
            try FileManager.default.createDirectory(atPath: env.temp.join("boot/grub"), withIntermediateDirectories: true)
            try Data(debian.utf8).write(to: URL(fileURLWithPath: env.grubConfig))
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let error = try await Self.failure(env.configuration(port: port))
                #expect(error.code == .invalidArgument)
                #expect(error.message.hasPrefix("\(env.grubConfig) was not written by Iconograph"))
            }
            // Nothing downloaded, no image directory, no grubenv, the menu byte for byte.
            #expect(!FileManager.default.fileExists(atPath: env.deviceDir))
            #expect(!FileManager.default.fileExists(atPath: GrubEnvironment.path(bootDir: env.bootDir)))
            #expect(try Data(contentsOf: URL(fileURLWithPath: env.grubConfig)) == Data(debian.utf8))
            // Boot safety never writes grubenv beside such a menu either.
            let safety = BootSafety(bootDir: env.bootDir, imageDir: env.deviceDir)
            expectIconError(.invalidArgument) { try safety.recordSwitch(to: 100, bootTries: 1) }
            expectIconError(.invalidArgument) { try safety.markGood(100) }
            expectIconError(.invalidArgument) { try safety.markFirstImageGood(100) }
            #expect(!FileManager.default.fileExists(atPath: GrubEnvironment.path(bootDir: env.bootDir)))
        }
    }

    @Test func transportErrorsAreClassifiedByValue() {
        let failure = NetworkFailure(
            url: "wss://10.0.2.2:8443/ws/slave",
            tls: ClientTLSFiles(caCertPath: "/etc/icon/ca.pem", clientCertPath: "/etc/icon/c.pem", clientKeyPath: "/etc/icon/k.pem"),
            serverNameFlag: "--server-name")
        #expect(failure.explain(errno: ECONNREFUSED) == "connection refused (is the server running and listening on 10.0.2.2:8443?)")
        #expect(failure.explain(NIOSSLExtraError.failedToValidateHostname).1.contains("--server-name"))
        #expect(failure.explain(sslReason: NetworkFailure.SSLReason.certificateVerifyFailed)?.1
            == "the server's certificate is not trusted: it does not chain to --https-ca-cert /etc/icon/ca.pem (or is expired)")
        #expect(failure.explain(sslReason: NetworkFailure.SSLReason.alertUnknownCA)?.1
            == "the server refused our client certificate (--https-client-cert /etc/icon/c.pem): it does not trust the CA that issued it")
        #expect(failure.explain(sslReason: 9999) == nil)
        let plain = NetworkFailure(url: "http://h:8443/x", tls: ClientTLSFiles(caCertPath: nil, clientCertPath: nil, clientKeyPath: nil))
        #expect(plain.explain(HTTPClientError.remoteConnectionClosed).1.contains("use https://"))
        #expect(plain.iconError(HTTPClientError.remoteConnectionClosed).message.hasPrefix("http://h:8443/x: "))
    }
}
