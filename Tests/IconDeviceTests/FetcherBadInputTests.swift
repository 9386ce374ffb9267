import Foundation
import IconCore
import IconManifest
import IconTLS
import IconTestSupport
@testable import IconUpdate
import Testing
import X509


/// Every failure must be an IconError with the right code, a message naming the URL or file,
/// and must leave the device's manifest, ISOs and `current` link exactly as they were.
@Suite("Fetcher bad input")
struct FetcherBadInputTests {
    /// Sets up a device that already fetched image 100 under manifest 1000, then runs
    /// `attack` (which may change the server side and returns the configuration to use),
    /// fetches, and checks the error and the unchanged state.
    func expectFailure(
        _ code: IconError.Code, messageContains: String, truncatingServer: Bool = false,
        attack: @Sendable (FetchEnvironment, Int) throws -> FetcherConfiguration
    ) async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            let error = try await TestImageHost.with(root: env.serverDir, pki: env.pki, truncating: truncatingServer) { port in
                _ = try await Fetcher(configuration: env.configuration(port: port)).fetch()
                let before = env.snapshot()
                let configuration = try attack(env, port)
                do {
                    _ = try await Fetcher(configuration: configuration).fetch()
                    return (nil as IconError?, before, env.snapshot())
                } catch let error as IconError {
                    return (error, before, env.snapshot())
                }
            }
            let thrown = try #require(error.0, "the fetch should have failed with \(code)")
            #expect(thrown.code == code, "\(thrown)")
            #expect(thrown.message.contains(messageContains), "\(thrown.message)")
            #expect(!thrown.message.contains("\n"))
            #expect(error.1 == error.2, "device state changed")
            #expect(error.1.keys.contains("100.iso") && error.1["current"] == "-> 100.iso")
            #expect(error.1.keys.contains("grub.cfg"))
        }
    }

    @Test func unreachableServer() async throws {
        try await expectFailure(.network, messageContains: "https://127.0.0.1:1/image/demo/manifest.json: connection refused") { env, _ in
            env.configuration(port: 1)
        }
    }

    @Test func serverWithoutClientCertificateIsRefused() async throws {
        try await expectFailure(.tls, messageContains: "requires a client certificate") { env, port in
            var configuration = env.configuration(port: port)
            configuration.httpsClientCert = nil
            configuration.httpsClientKey = nil
            return configuration
        }
    }

    @Test func serverCertificateFromWrongCAIsRefused() async throws {
        try await expectFailure(.tls, messageContains: "not trusted: it does not chain to --https-ca-cert") { env, port in
            let other = try TestPKI(directory: env.temp.join("other-pki"))
            var configuration = env.configuration(port: port)
            configuration.httpsCACert = other.root.certPath
            return configuration
        }
    }

    @Test func tamperedManifestHasBadSignature() async throws {
        try await expectFailure(.badSignature, messageContains: "manifest.json") { env, port in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100)
            let path = "\(env.serverDir)/manifest.json"
            var wrapper = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            let inner = try #require(wrapper["inner"] as? String)
            #expect(inner.contains("\"timestamp\": 1100"))
            wrapper["inner"] = inner.replacingOccurrences(of: "\"timestamp\": 1100", with: "\"timestamp\": 1101")
            try JSONSerialization.data(withJSONObject: wrapper).write(to: URL(fileURLWithPath: path))
            return env.configuration(port: port)
        }
    }

    @Test func signerFromAnotherCAIsUntrusted() async throws {
        try await expectFailure(.untrusted, messageContains: "manifest.json") { env, port in
            let other = try TestPKI(directory: env.temp.join("other-pki"))
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, signer: other.signer, chain: other.chainPath)
            return env.configuration(port: port)
        }
    }

    @Test func expiredSignerIsUntrusted() async throws {
        try await expectFailure(.untrusted, messageContains: "manifest.json") { env, port in
            let expired = try env.pki.issueLeaf(
                name: "Expired Signer", file: "expired", usages: [.codeSigning],
                notValidBefore: Date().addingTimeInterval(-7200), notValidAfter: Date().addingTimeInterval(-3600))
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, signer: expired)
            return env.configuration(port: port)
        }
    }

    @Test func serverCertificateCannotSignManifests() async throws {
        try await expectFailure(.untrusted, messageContains: "manifest.json") { env, port in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, signer: env.pki.server)
            return env.configuration(port: port)
        }
    }

    @Test func signedContentThatIsNotAManifest() async throws {
        try await expectFailure(.malformed, messageContains: "manifest.json") { env, port in
            let signer = try ManifestSigner(
                certPath: env.pki.signer.certPath, keyPath: env.pki.signer.keyPath, otherCertPaths: [env.pki.chainPath])
            let signed = try SignedManifest.sign(
                inner: "{\"hello\": 1}", key: signer.key, certificate: signer.certificatePEM,
                otherCertificates: signer.otherCertificatePEMs)
            try signed.write(to: URL(fileURLWithPath: "\(env.serverDir)/manifest.json"))
            return env.configuration(port: port)
        }
    }

    @Test func replayedOlderManifest() async throws {
        try await expectFailure(.replay, messageContains: "manifest.json") { env, port in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 999)
            return env.configuration(port: port)
        }
    }

    @Test func hashMismatch() async throws {
        try await expectFailure(.hashMismatch, messageContains: "200.iso") { env, port in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100)
            let handle = try #require(FileHandle(forWritingAtPath: "\(env.serverDir)/200.iso"))
            try handle.seek(toOffset: 40_000)
            try handle.write(contentsOf: Data("tampered".utf8))
            try handle.close()
            return env.configuration(port: port)
        }
    }

    @Test func truncatedDownload() async throws {
        try await expectFailure(.truncated, messageContains: "200.iso", truncatingServer: true) { env, port in
            try env.makeImage(200, size: 512 * 1024)
            try env.publish(manifestTimestamp: 1100)
            return env.configuration(port: port, path: "short/demo")
        }
    }

    @Test func malformedManifestJSON() async throws {
        try await expectFailure(.malformed, messageContains: "manifest.json") { env, port in
            try Data("{\"inner\": not json".utf8).write(to: URL(fileURLWithPath: "\(env.serverDir)/manifest.json"))
            return env.configuration(port: port)
        }
    }

    @Test func oversizedManifest() async throws {
        try await expectFailure(.tooLarge, messageContains: "manifest.json is 2097152 bytes, more than the 1048576 allowed") { env, port in
            try Data(count: 2 << 20).write(to: URL(fileURLWithPath: "\(env.serverDir)/manifest.json"))
            return env.configuration(port: port)
        }
    }

    @Test func forcedTimestampNotInManifest() async throws {
        try await expectFailure(.notFound, messageContains: "999") { env, port in
            var configuration = env.configuration(port: port)
            configuration.forcedTimestamp = 999
            return configuration
        }
    }

    @Test func missingClientKeyFile() async throws {
        try await expectFailure(.notFound, messageContains: "/nonexistent/device.key.pem") { env, port in
            var configuration = env.configuration(port: port)
            configuration.httpsClientKey = "/nonexistent/device.key.pem"
            return configuration
        }
    }

    @Test func unreadableClientKeyFile() async throws {
        // A directory cannot be read as a file, even by root (tests may run as root, where
        // mode 000 would not stop the read).
        try await expectFailure(.io, messageContains: "--https-client-key") { env, port in
            var configuration = env.configuration(port: port)
            configuration.httpsClientKey = env.temp.join("pki")
            return configuration
        }
    }

    @Test func garbageClientKeyFile() async throws {
        try await expectFailure(.badKey, messageContains: "garbage.pem") { env, port in
            let path = env.temp.join("garbage.pem")
            try Data("not a key".utf8).write(to: URL(fileURLWithPath: path))
            var configuration = env.configuration(port: port)
            configuration.httpsClientKey = path
            return configuration
        }
    }

    @Test func missingManifestTrustFile() async throws {
        try await expectFailure(.notFound, messageContains: "--ca-cert") { env, port in
            var configuration = env.configuration(port: port)
            configuration.manifestTrustRoots = env.temp.join("absent.pem")
            return configuration
        }
    }

    @Test func imageDirOutsideBootDir() async throws {
        try await expectFailure(.invalidArgument, messageContains: "--boot-dir") { env, port in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100)
            var configuration = env.configuration(port: port)
            configuration.bootDir = env.temp.join("elsewhere")
            return configuration
        }
    }

    @Test func missingManifestOnServer() async throws {
        try await expectFailure(.notFound, messageContains: "manifest.json") { env, port in
            try FileManager.default.removeItem(atPath: "\(env.serverDir)/manifest.json")
            return env.configuration(port: port)
        }
    }
}
