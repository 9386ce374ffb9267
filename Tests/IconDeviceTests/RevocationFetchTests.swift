import Foundation
import IconCore
import IconManifest
import IconPKI
import IconTestSupport
@testable import IconUpdate
import Testing
import X509

/// Signer revocation against the real fetcher over mutual TLS: a list a CA of the chain signed
/// is kept on BOOT, newest per CA, and the manifests of the signers it revokes are refused,
/// also when a later manifest leaves the list out; an older or foreign list changes nothing.
@Suite("Signer revocation")
struct RevocationFetchTests {
    /// A list of the test PKI's intermediate revoking `certificates`.
    static func list(_ env: FetchEnvironment, number: Int, revoking certificates: [Certificate]) throws -> String {
        try list(issuer: env.pki.intermediate, number: number, revoking: certificates)
    }

    static func list(issuer: TestPKI.Identity, number: Int, revoking certificates: [Certificate]) throws -> String {
        let now = Date()
        return try RevocationList.make(
            issuer: issuer.certificate, key: SigningKey(path: issuer.keyPath), number: number,
            entries: certificates.map { RevocationList.Entry(serial: $0.serialNumber, revoked: now) }, thisUpdate: now,
            nextUpdate: now.addingTimeInterval(86_400)
        ).pemString
    }

    /// Runs `body` with a device that fetched image 100 under manifest 1000 from the test signer.
    func withDevice(_ body: @Sendable (FetchEnvironment, FetcherConfiguration) async throws -> Void) async throws {
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.with(root: env.serverDir, pki: env.pki) { port in
                let configuration = env.configuration(port: port)
                _ = try await Fetcher(configuration: configuration).fetch()
                try await body(env, configuration)
            }
        }
    }

    func keptLists(_ env: FetchEnvironment) -> [RevocationList] {
        ImageDirectory(path: env.deviceDir).revocations().lists
    }

    @Test func aRevokedSignerIsRefusedAndTheListIsKeptForManifestsWithoutIt() async throws {
        try await withDevice { env, configuration in
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, crls: [try Self.list(env, number: 2, revoking: [env.pki.signer.certificate])])
            let before = env.snapshot()
            let error = await expectIconError(.revoked) { _ = try await Fetcher(configuration: configuration).fetch() }
            #expect(error?.message.contains("rejected: revoked: the signer CN=Test Manifest Signer,O=Iconograph Test is revoked by CRL number 2") == true, "\(error?.message ?? "")")
            var after = env.snapshot()
            #expect(after.removeValue(forKey: "revocations.pem") != nil, "the list was not kept")
            #expect(after == before, "anything but the kept list changed")
            #expect(keptLists(env).map(\.number) == [2])
            // The attacker leaves the list out: refused all the same.
            try env.publish(manifestTimestamp: 1200)
            await expectIconError(.revoked) { _ = try await Fetcher(configuration: configuration).fetch() }
            // Another signer the list does not name is taken.
            let other = try env.pki.issueLeaf(name: "New Signer", file: "signer-new", usages: [.codeSigning])
            try env.publish(manifestTimestamp: 1300, signer: other)
            #expect(try await Fetcher(configuration: configuration).fetch().image?.timestamp == 200)
        }
    }

    @Test func anOlderListCannotBringARevokedSignerBack() async throws {
        try await withDevice { env, configuration in
            try env.publish(manifestTimestamp: 1100, crls: [try Self.list(env, number: 5, revoking: [env.pki.signer.certificate])])
            await expectIconError(.revoked) { _ = try await Fetcher(configuration: configuration).fetch() }
            try env.publish(manifestTimestamp: 1200, crls: [try Self.list(env, number: 4, revoking: [])])
            await expectIconError(.revoked) { _ = try await Fetcher(configuration: configuration).fetch() }
            #expect(keptLists(env).map(\.number) == [5])
        }
    }

    @Test func aRevokedIntermediateIsRefused() async throws {
        try await withDevice { env, configuration in
            let byRoot = try Self.list(issuer: env.pki.root, number: 1, revoking: [env.pki.intermediate.certificate])
            try env.publish(manifestTimestamp: 1100, crls: [byRoot])
            let error = await expectIconError(.revoked) { _ = try await Fetcher(configuration: configuration).fetch() }
            #expect(error?.message.contains("the intermediate CN=") == true, "\(error?.message ?? "")")
        }
    }

    @Test func aListOfAnotherCAOrOneTheCADidNotSignIsIgnored() async throws {
        try await withDevice { env, configuration in
            let other = try TestPKI(directory: env.temp.join("other-pki"))
            // Another CA's intermediate, with the same name as ours? No: another name, and a list
            // naming our signer's serial under our issuer's name but signed by the other key.
            let foreign = try Self.list(issuer: other.intermediate, number: 9, revoking: [env.pki.signer.certificate])
            try env.makeImage(200)
            try env.publish(manifestTimestamp: 1100, crls: [foreign])
            #expect(try await Fetcher(configuration: configuration).fetch().image?.timestamp == 200)
            #expect(keptLists(env).isEmpty)
        }
    }

    @Test func aListThatIsNotACRLMakesTheManifestMalformed() async throws {
        try await withDevice { env, configuration in
            try env.publish(manifestTimestamp: 1100, crls: ["-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"])
            let before = env.snapshot()
            await expectIconError(.malformed) { _ = try await Fetcher(configuration: configuration).fetch() }
            #expect(env.snapshot() == before)
        }
    }
}
