public import Foundation
import IconCore
import IconPKI
import X509

/// Publishes an image directory: builds `manifest.json.unsigned`, signs it into
/// `manifest.json`, and edits rollouts — the original's build_manifest, wrap_file and
/// publish_manifest in one step.
///
/// Nothing in the directory changes unless machines will take the result: the signing
/// identity is loaded and checked against the machines' roots (``SignerTrust``,
/// ``SignerCheck``) before any image is hashed, a directory without images is refused, and
/// the signed bytes are verified with ``SignedManifest/verify(_:verifier:now:)`` — a
/// machine's own check — before exactly those bytes are written.
public struct Publisher: Sendable {
    /// The name of the signed manifest inside an image directory.
    public static let signedFileName = "manifest.json"

    /// What a publish did.
    public struct Result: Sendable {
        public var manifest: Manifest
        /// Per image timestamp: hashed now or kept from the previous manifest.
        public var sources: [Int: ManifestBuilder.ImageSource]
        /// ISOs deleted because of `maxImages`.
        public var deleted: [String]
        /// `.iso` files left out because they are not `<digits>.iso` images.
        public var skipped: [ImageScan.Skipped]
        /// The roots file the signed manifest was verified against.
        public var rootsPath: String
    }

    public let imageDirectory: String
    public let signer: ManifestSigner
    /// More signers for a manifest that machines take only with several signatures
    /// (`--signature-threshold`); their signatures follow the first signer's.
    public let coSigners: [ManifestSigner]
    /// The roots the machines trust; what is written must verify against them.
    public let trust: SignerTrust

    /// Revocation lists (PEM) the manifest carries (`--crl`): machines keep the newest of each
    /// CA and refuse manifests of the signers they revoke.
    public let revocationLists: [String]

    public init(
        imageDirectory: String, signer: ManifestSigner, coSigners: [ManifestSigner] = [], revocationLists: [String] = [],
        trust: SignerTrust
    ) {
        self.imageDirectory = imageDirectory
        self.signer = signer
        self.coSigners = coSigners
        self.revocationLists = revocationLists
        self.trust = trust
    }

    /// Loads the `--crl` files: each must hold one revocation list, signed by a CA of the
    /// signer's chain or by a root the machines trust.
    ///
    /// - Throws: `.notFound`/`.io`/`.malformed` naming the file; `.untrusted` for a list of
    ///   another CA (machines would ignore it).
    static func loadRevocationLists(_ paths: [String], signer: ManifestSigner, trust: SignerTrust) throws -> [String] {
        guard paths.count <= Revocations.maxLists else {
            throw IconError(.invalidArgument, "at most \(Revocations.maxLists) --crl files, got \(paths.count)")
        }
        let issuers = [signer.certificate] + signer.chain.map(\.certificate) + trust.verifier.roots
        return try paths.map { path in
            guard let data = try RegularFile.contents(atPath: path) else {
                throw IconError(.notFound, "--crl \(path) does not exist")
            }
            let text = String(decoding: data, as: UTF8.self)
            let list = try RevocationList(pemEncoded: text, source: "--crl \(path)")
            guard issuers.contains(where: { list.isSigned(by: $0) }) else {
                throw IconError(
                    .untrusted,
                    "--crl \(path) is signed by \(list.issuer), which is not a CA of the signer's chain or a root in "
                        + "\(trust.rootsPath); machines would ignore it")
            }
            return list.pemString
        }
    }

    /// A signer's certificate and key files, for the static entry points.
    public struct SignerPaths: Sendable {
        public var certPath: String
        public var keyPath: String

        public init(certPath: String, keyPath: String) {
            self.certPath = certPath
            self.keyPath = keyPath
        }
    }

    /// The publisher of the static entry points: the signer files, the co-signers, the roots
    /// (`caCertPath`, else found beside the signer files) and the `--crl` files, all loaded and
    /// checked before anything changes.
    static func load(
        imageDir: String, certPath: String, keyPath: String, otherCertPaths: [String], coSigners: [SignerPaths],
        crlPaths: [String], caCertPath: String?
    ) throws -> Publisher {
        let signer = try ManifestSigner(certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths)
        let others = try loadCoSigners(coSigners, otherCertPaths: otherCertPaths)
        let trust = try SignerTrust.locate(caCertPath: caCertPath, certPath: certPath, otherCertPaths: otherCertPaths)
        let lists = try loadRevocationLists(crlPaths, signer: signer, trust: trust)
        return Publisher(imageDirectory: imageDir, signer: signer, coSigners: others, revocationLists: lists, trust: trust)
    }

    /// Loads more signers; each shares the first signer's `--other-cert` chain.
    static func loadCoSigners(_ paths: [SignerPaths], otherCertPaths: [String]) throws -> [ManifestSigner] {
        try paths.map { try ManifestSigner(certPath: $0.certPath, keyPath: $0.keyPath, otherCertPaths: otherCertPaths) }
    }

    /// Loads the signer files, finds the roots (`caCertPath`, else beside the signer files)
    /// and publishes; see ``publish(defaultRollout:maxImages:now:)``.
    ///
    /// - Throws: the signer's and ``SignerTrust/locate(caCertPath:certPath:otherCertPaths:)``'s
    ///   errors (naming the file) before anything changes, then ``publish(defaultRollout:maxImages:now:)``'s.
    public static func publish(
        imageDir: String, certPath: String, keyPath: String, otherCertPaths: [String] = [], caCertPath: String? = nil,
        coSigners: [SignerPaths] = [], crlPaths: [String] = [], defaultRollout: Int = 0, maxImages: Int = 0,
        validity: ManifestValidity = .never, now: Date
    ) async throws -> Result {
        return try await load(
            imageDir: imageDir, certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths, coSigners: coSigners,
            crlPaths: crlPaths, caCertPath: caCertPath)
            .publish(defaultRollout: defaultRollout, maxImages: maxImages, validity: validity, now: now)
    }

    /// Scans the directory, checks the signer, writes `manifest.json.unsigned` then
    /// `manifest.json`, each atomically with mode 0644, then deletes the ISOs beyond
    /// `maxImages`. On any refusal the directory is left exactly as it was.
    ///
    /// - Throws: `IconError.Code.untrusted` when machines would refuse the signer
    ///   (``SignerCheck``); `.notFound` / `.invalidArgument` when the directory holds no
    ///   image (``ImageScan/noImagesError``); `.invalidArgument` for a bad rollout or image
    ///   count; `.io` / `.malformed` / `.notFound` naming the file.
    public func publish(
        defaultRollout: Int = 0, maxImages: Int = 0, validity: ManifestValidity = .never, now: Date
    ) async throws -> Result {
        // The cheap checks of the arguments first (the directory, its images, the floor), then
        // the signer, and only then is anything hashed.
        let scan = try ImageScan(directory: imageDirectory)
        guard let newest = scan.timestamps.max() else { throw scan.noImagesError }
        let builder = ManifestBuilder(
            imageDirectory: imageDirectory, configuration: .init(defaultRollout: defaultRollout, maxImages: maxImages))
        let floor = try validity.floor(previous: builder.previousManifest(), newestImage: newest, imageDirectory: imageDirectory)
        try await checkSigners(now: now)
        var built = try builder.build(now: now)
        built.manifest.expires = validity.expires(signedAt: now)
        built.manifest.minTimestamp = floor
        try await write(built.manifest, now: now)
        try ManifestBuilder.deleteExcess(built.excess)
        return Result(
            manifest: built.manifest, sources: built.sources, deleted: built.excess, skipped: built.skipped,
            rootsPath: trust.rootsPath)
    }

    /// Sets one image's rollout in `manifest.json.unsigned` and re-signs `manifest.json`.
    /// The manifest timestamp moves forward so devices take the new manifest; images without
    /// a `size` get their file's, when it is there.
    ///
    /// - Throws: `IconError.Code.invalidArgument` when `rollout` is outside 0...10000,
    ///   `.untrusted` when machines would refuse the signer, `.notFound` naming the
    ///   timestamp (or the missing unsigned manifest).
    public func setRollout(
        timestamp: Int, rollout: Int, validity: ManifestValidity = .never, now: Date
    ) async throws -> Manifest {
        try ManifestBuilder.checkRollout(rollout, flag: "--rollout")
        try await checkSigners(now: now)
        let builder = ManifestBuilder(imageDirectory: imageDirectory)
        guard var manifest = try builder.previousManifest() else {
            throw IconError(
                .notFound,
                "\(imageDirectory)/\(ManifestBuilder.unsignedFileName) does not exist; run icon publish first")
        }
        guard let index = manifest.images.firstIndex(where: { $0.timestamp == timestamp }) else {
            throw IconError(.notFound, "image \(timestamp) is not in \(imageDirectory)/\(ManifestBuilder.unsignedFileName)")
        }
        manifest.images[index].rollout = rollout
        for (position, image) in manifest.images.enumerated() where image.size == nil {
            let path = "\(imageDirectory)/\(image.fileName)"
            if ImageScan.nonRegularKind(path) == nil, let size = try? ManifestBuilder.fileSize(path) {
                manifest.images[position].size = size
            }
        }
        manifest.timestamp = max(Int(now.timeIntervalSince1970.rounded(.down)), manifest.timestamp + 1)
        manifest.expires = validity.expires(signedAt: now)
        try await write(manifest, now: now)
        return manifest
    }

    /// Signs into memory and verifies those bytes as a machine would; only then removes stale
    /// temp files of earlier writes and replaces both files, the signed one with exactly the
    /// verified bytes.
    func write(_ manifest: Manifest, now: Date) async throws {
        let signed = try signer.sign(manifest, coSigners: coSigners, crls: revocationLists)
        // Every signature must count: as many distinct signers as were given.
        let verdict = await SignedManifest.verify(signed, verifier: trust.verifier, now: now, threshold: 1 + coSigners.count)
        switch verdict {
        case .verified(let verified, _) where verified == manifest:
            break
        case .verified:
            throw IconError(.internal, "the signed manifest for \(imageDirectory) does not read back as written; nothing was written")
        case .rejected(let reason):
            throw IconError(
                verdict.rejectionCode ?? .untrusted,
                "machines trusting \(trust.rootsPath) would reject the manifest signed with --cert \(signer.certPath): "
                    + "\(reason); nothing was written")
        }
        // Temp files of a publish killed mid-write (SIGKILL leaves them) go first.
        AtomicFile.removeStaleTemporaries(in: imageDirectory)
        try AtomicFile.write(manifest.encoded(), to: "\(imageDirectory)/\(ManifestBuilder.unsignedFileName)", mode: 0o644)
        try AtomicFile.write(signed, to: "\(imageDirectory)/\(Self.signedFileName)", mode: 0o644)
    }

    /// Checks every signer the way machines do, and that no two share a certificate or key
    /// (machines would count them once).
    ///
    /// - Throws: `.untrusted` naming the signer's file; `.invalidArgument` for a signer given twice.
    func checkSigners(now: Date) async throws {
        var seen: [ManifestSigner] = []
        for candidate in [signer] + coSigners {
            if let twin = seen.first(where: {
                $0.certificate == candidate.certificate || $0.certificate.publicKey == candidate.certificate.publicKey
            }) {
                throw IconError(
                    .invalidArgument,
                    "--cert \(candidate.certPath) and --cert \(twin.certPath) are the same signer (one certificate or key); "
                        + "machines count its signature once, so pass each signer once")
            }
            try await SignerCheck.check(candidate, against: trust, now: now)
            seen.append(candidate)
        }
    }

    /// Adds this publisher's signature (and its co-signers') to the directory's signed
    /// `manifest.json`, for a second signer on another machine (`icon publish --sign-only`):
    /// the manifest and its images stay as they are. Every signature must verify against the
    /// roots, the new ones included, before the file is replaced.
    ///
    /// - Returns: the manifest and how many signatures it now carries.
    /// - Throws: `.notFound` when there is no `manifest.json`; `.invalidArgument` when a signer
    ///   already signed it; the verifier's codes when a signature in it does not hold.
    public func addSignatures(now: Date) async throws -> (manifest: Manifest, signatures: Int) {
        try await checkSigners(now: now)
        let path = "\(imageDirectory)/\(Self.signedFileName)"
        guard var signed = try RegularFile.contents(atPath: path) else {
            throw IconError(.notFound, "\(path) does not exist; --sign-only adds a signature to a manifest icon publish wrote")
        }
        for added in [signer] + coSigners {
            signed = try SignedManifest.addSignature(to: signed, added.signing, source: path)
        }
        let count = SignedManifest.signatureCount(signed) ?? 1
        let verdict = await SignedManifest.verify(signed, verifier: trust.verifier, now: now, threshold: count)
        guard let manifest = verdict.manifest else {
            let reason = if case .rejected(let reason) = verdict { reason } else { "" }
            throw IconError(
                verdict.rejectionCode ?? .untrusted,
                "machines trusting \(trust.rootsPath) would not count every signature of \(path): \(reason); nothing was written")
        }
        AtomicFile.removeStaleTemporaries(in: imageDirectory)
        try AtomicFile.write(signed, to: path, mode: 0o644)
        return (manifest, count)
    }
}

extension Publisher {
    /// Loads the signer files, finds the roots and sets one image's rollout; see
    /// ``setRollout(timestamp:rollout:now:)``.
    public static func setRollout(
        imageDir: String, timestamp: Int, rollout: Int, certPath: String, keyPath: String,
        otherCertPaths: [String] = [], coSigners: [SignerPaths] = [], crlPaths: [String] = [], caCertPath: String? = nil,
        validity: ManifestValidity = .never, now: Date
    ) async throws -> Manifest {
        try ManifestBuilder.checkRollout(rollout, flag: "--rollout")
        return try await load(
            imageDir: imageDir, certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths, coSigners: coSigners,
            crlPaths: crlPaths, caCertPath: caCertPath)
            .setRollout(timestamp: timestamp, rollout: rollout, validity: validity, now: now)
    }

    /// Loads the signer files, finds the roots and adds their signatures to the directory's
    /// `manifest.json`; see ``addSignatures(now:)``.
    public static func addSignatures(
        imageDir: String, certPath: String, keyPath: String, otherCertPaths: [String] = [], coSigners: [SignerPaths] = [],
        crlPaths: [String] = [], caCertPath: String? = nil, now: Date
    ) async throws -> (manifest: Manifest, signatures: Int) {
        return try await load(
            imageDir: imageDir, certPath: certPath, keyPath: keyPath, otherCertPaths: otherCertPaths, coSigners: coSigners,
            crlPaths: crlPaths, caCertPath: caCertPath)
            .addSignatures(now: now)
    }
}
