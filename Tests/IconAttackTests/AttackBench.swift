import Foundation
import IconCore
import IconManifest
import IconPKI
import IconTLS
import IconTestSupport
import IconUpdate
import SwiftASN1
import Testing
import X509

/// One machine and the hostile repository it fetches from, with a clock the test sets.
///
/// ``start()`` brings the machine to a good state (image 100 under manifest 1000, fetched
/// and current); an attack then changes what the repository serves and ``refused(_:)`` checks
/// that the real fetcher says no, in one line with the right code, and that the machine's
/// files (images, manifest, `current`, grubenv, grub.cfg, floor, kept lists) are byte-identical.
struct AttackBench: Sendable {
    let temp: TemporaryDirectory
    let pki: TestPKI
    let repository: HostileRepository
    let port: Int
    /// The test's clock: the PKI's certificates are valid from an hour before it for a year.
    let now: Date

    var bootDir: String { temp.join("boot") }
    var deviceDir: String { temp.join("boot/iconograph") }
    var grubConfig: String { temp.join("boot/grub/grub.cfg") }
    var manifestURL: String { "https://127.0.0.1:\(port)/image/demo/manifest.json" }

    /// `now` as Unix seconds.
    var clock: Int { Int(now.timeIntervalSince1970) }

    /// Runs `body` with a fresh machine, PKI and repository, all removed afterwards.
    static func with(_ body: @Sendable (AttackBench) async throws -> Void) async throws {
        let temp = try TemporaryDirectory(prefix: "icon-attack")
        defer { temp.remove() }
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let pki = try TestPKI(directory: temp.join("pki"), now: now)
        try await HostileRepository.with(pki: pki) { repository, port in
            try await body(AttackBench(temp: temp, pki: pki, repository: repository, port: port, now: now))
        } as Void
    }

    // MARK: What the repository serves

    /// The ISO of image `timestamp`: a small ISO 9660 file of its own.
    func iso(_ timestamp: Int) -> Data {
        MiniISO.bytes(volumeID: "TEST_\(timestamp)", payloadSize: 64 * 1024, seed: UInt64(timestamp))
    }

    /// Image `timestamp`'s manifest entry, for everyone unless `rollout` says otherwise.
    func entry(_ timestamp: Int, rollout: Int = ManifestImage.fullRollout, size: Int? = nil) -> ManifestImage {
        let bytes = iso(timestamp)
        return ManifestImage(
            timestamp: timestamp, hash: FileHasher.sha256Hex(of: bytes), volumeID: "TEST_\(timestamp)", rollout: rollout, size: size)
    }

    /// A signer of this PKI's intermediate (the test signer unless `identity` says otherwise).
    func signer(_ identity: TestPKI.Identity? = nil, chain: [String]? = nil) throws -> ManifestSigner {
        let identity = identity ?? pki.signer
        return try ManifestSigner(
            certPath: identity.certPath, keyPath: identity.keyPath, otherCertPaths: chain ?? [pki.chainPath])
    }

    /// Signed manifest `timestamp` listing `images`, by the test signer unless `signers` says otherwise.
    func signed(
        _ timestamp: Int, _ images: [ManifestImage], expires: Int? = nil, minTimestamp: Int? = nil,
        signers: [ManifestSigner]? = nil, crls: [String] = []
    ) throws -> Data {
        let signers = try signers ?? [signer()]
        let manifest = Manifest(timestamp: timestamp, images: images, expires: expires, minTimestamp: minTimestamp)
        return try signers[0].sign(manifest, coSigners: Array(signers.dropFirst()), crls: crls)
    }

    /// Serves `manifest` and the ISOs of `images` (the real bytes of each).
    func publish(_ manifest: Data, images: [Int]) {
        repository.serve("manifest.json", manifest)
        for timestamp in images { repository.serve("\(timestamp).iso", iso(timestamp)) }
    }

    /// Serves manifest `timestamp` over `images`, signed by the test signer, and their ISOs.
    func publish(_ timestamp: Int, images: [Int], expires: Int? = nil, minTimestamp: Int? = nil, crls: [String] = [])
        throws
    {
        publish(
            try signed(timestamp, images.map { entry($0) }, expires: expires, minTimestamp: minTimestamp, crls: crls),
            images: images)
    }

    /// Manifest text signed as it is, valid JSON or not: the signer's own mistakes (or a stolen
    /// key's) must still be refused by content.
    func signedInner(_ inner: String) throws -> Data {
        try SignedManifest.sign(inner: inner, signers: [signer().signing])
    }

    /// The intermediate's revocation list number `number`, revoking `certificates`.
    func revocationList(number: Int, revoking certificates: [Certificate], by issuer: TestPKI.Identity? = nil) throws
        -> String
    {
        let issuer = issuer ?? pki.intermediate
        return try RevocationList.make(
            issuer: issuer.certificate, key: SigningKey(path: issuer.keyPath), number: number,
            entries: certificates.map { RevocationList.Entry(serial: $0.serialNumber, revoked: now) }, thisUpdate: now,
            nextUpdate: now.addingTimeInterval(86_400)
        ).pemString
    }

    // MARK: The machine

    /// The machine's fetch configuration, at the test's clock.
    func configuration() -> FetcherConfiguration {
        FetcherConfiguration(
            baseURL: "https://127.0.0.1:\(port)/image/demo",
            manifestTrustRoots: pki.root.certPath,
            imageDir: deviceDir,
            httpsCACert: pki.root.certPath,
            bootDir: bootDir,
            hostname: "device-1",
            runningImageFile: temp.join("iconograph.json"),
            connectTimeout: TestTiming.duration(.seconds(30)),
            now: { [now] in now })
    }

    /// One fetch with `configure` applied to the configuration.
    func fetch(_ configure: (inout FetcherConfiguration) -> Void = { _ in }) async throws -> FetchResult {
        var configuration = configuration()
        configure(&configuration)
        return try await Fetcher(configuration: configuration).fetch()
    }

    /// The good state every attack starts from: manifest 1000 with image 100, fetched.
    func start() async throws {
        try publish(1000, images: [100])
        let result = try await fetch()
        #expect(result.image?.timestamp == 100)
        #expect(ImageDirectory(path: deviceDir).currentTimestamp() == 100)
    }

    /// The machine's files: everything in the image directory, grubenv and grub.cfg.
    func snapshot() -> [String: String] {
        DirectorySnapshot.take(deviceDir, files: [grubConfig, "\(bootDir)/grub/grubenv"])
    }

    /// Fetches with `configure` and expects a refusal with `code` in one line that contains
    /// `phrase`, the machine's files unchanged but for `changing` (e.g. a kept revocation
    /// list); returns the error.
    @discardableResult
    func refused(
        _ code: IconError.Code, _ phrase: String = "", changing: Set<String> = [],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ configure: (inout FetcherConfiguration) -> Void = { _ in }
    ) async throws -> IconError? {
        let before = snapshot()
        var caught: IconError?
        do {
            let result = try await fetch(configure)
            Issue.record("the fetch should have been refused, it gave \(result.summary)", sourceLocation: sourceLocation)
        } catch let error as IconError {
            caught = error
        }
        guard let error = caught else { return nil }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!"\(error)".contains("\n"), "not one line: \(error)", sourceLocation: sourceLocation)
        #expect(phrase.isEmpty || error.message.contains(phrase), "\(error.message)", sourceLocation: sourceLocation)
        var after = snapshot()
        var expected = before
        for name in changing {
            after.removeValue(forKey: name)
            expected.removeValue(forKey: name)
        }
        #expect(after == expected, "the machine's files changed", sourceLocation: sourceLocation)
        #expect(!after.keys.contains { $0.hasSuffix(".part") }, "a partial download was left", sourceLocation: sourceLocation)
        return error
    }
}

extension AttackBench {
    /// The wrapper of `signed` changed by `change`, as JSON again: what an attacker who cannot
    /// sign can still do to a signed manifest.
    func rewritten(_ signed: Data, _ change: (inout [String: Any]) -> Void) throws -> Data {
        var wrapper = try #require(try JSONSerialization.jsonObject(with: signed) as? [String: Any])
        change(&wrapper)
        return try JSONSerialization.data(withJSONObject: wrapper, options: [.sortedKeys])
    }

    /// The PEM of `certificate`.
    func pem(_ certificate: Certificate) throws -> String {
        try certificate.serializeAsPEM().pemString
    }

    /// A second certificate from the intermediate for the key of `identity` (another name, the
    /// same key): paths of the certificate and of the key.
    func reissued(_ identity: TestPKI.Identity, name: String) throws -> (certPath: String, keyPath: String) {
        let subject = try DistinguishedName {
            OrganizationName("Iconograph Test")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: identity.certificate.publicKey,
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(300 * 86_400),
            issuer: pki.intermediate.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: identity.certificate.extensions,
            issuerPrivateKey: Certificate.PrivateKey(pki.intermediate.privateKey))
        let certPath = temp.join("pki/\(name).cert.pem")
        try pem(certificate).write(toFile: certPath, atomically: true, encoding: .utf8)
        return (certPath, identity.keyPath)
    }
}
