public import ArgumentParser
import Foundation
import IconCore
import IconManifest

/// `icon publish`: build, sign and write the manifest of an image directory.
public struct ManifestPublish: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Build and sign the manifest of an image directory.",
        discussion: """
            Scans --image-dir for <timestamp>.iso files and writes manifest.json.unsigned and \
            the signed manifest.json (both atomically, mode 0644). Images already in the \
            previous manifest.json.unsigned keep their entry and rollout and are not hashed \
            again; new images get --default-rollout. The manifest timestamp always increases.

            Several signers: repeat --cert and --key (in pairs); every signature goes into the \
            manifest, the first also where the original's fetcher looks. A second signer on \
            another machine adds a signature to the published manifest.json with --sign-only. \
            Machines with --signature-threshold K take a manifest only with K valid signatures \
            from distinct signers.

            The manifest expires --expires-in after signing (30 days unless told): machines \
            refuse it afterwards, so a replayed or frozen manifest ages out. Publish again (a \
            daily timer does) to extend it; the same images are not hashed again. \
            --min-timestamp sets a version floor: machines never switch to an older image \
            again, by rollout or by an operator's choice. Later publishes keep the floor; it \
            can only rise.

            Before anything changes, the signer is checked the way machines check it: it must \
            chain to --ca-cert (default: root.cert.pem beside --other-cert, beside --cert or in \
            ca/ beside --cert) through --other-cert and be a signer certificate (icon pki issue \
            --role signer), and the signed manifest is verified before it is written. A \
            directory without <digits>.iso images is refused; other .iso files are skipped \
            with a warning. On any refusal no file is written and no ISO is deleted.

            Example:
              icon publish --image-dir /srv/icon/images/robot \\
                --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem \\
                --other-cert /etc/icon/ca/intermediate.cert.pem \\
                --ca-cert /etc/icon/ca/root.cert.pem --default-rollout 0 --max-images 10
            """
    )

    @Option(help: ArgumentHelp("Directory holding the <timestamp>.iso images of one image type.", valueName: "dir"))
    var imageDir: String

    @OptionGroup var signer: SignerOptions

    @Option(help: ArgumentHelp("Rollout of new images in basis points, 0-10000 (10000 = every device).", valueName: "n"))
    var defaultRollout = 0

    @Option(help: ArgumentHelp("Keep only the newest <n> images and delete older ISOs; 0 keeps all.", valueName: "n"))
    var maxImages = 0

    @OptionGroup var expiry: ExpiryOptions

    @Option(
        help: ArgumentHelp(
            "Version floor: machines never switch to an image older than this timestamp again (default: the "
                + "previous manifest's floor, if any).",
            valueName: "timestamp"))
    var minTimestamp: Int?

    @Flag(
        help: ArgumentHelp(
            "Only add the --cert signers' signatures to the existing manifest.json of --image-dir (a second signer on "
                + "another machine); nothing else changes."))
    var signOnly = false

    public init() {}

    public func run() async throws {
        if signOnly {
            let (manifest, count) = try await Publisher.addSignatures(
                imageDir: imageDir, certPath: signer.firstCert, keyPath: signer.firstKey, otherCertPaths: signer.otherCerts,
                coSigners: signer.coSigners, crlPaths: signer.crl, caCertPath: signer.caCert, now: Date())
            printLine("manifest timestamp \(manifest.timestamp) now carries \(count) signature(s), each verified")
            return
        }
        let result = try await Publisher.publish(
            imageDir: imageDir, certPath: signer.firstCert, keyPath: signer.firstKey, otherCertPaths: signer.otherCerts,
            caCertPath: signer.caCert, coSigners: signer.coSigners, crlPaths: signer.crl, defaultRollout: defaultRollout, maxImages: maxImages,
            validity: ManifestValidity(lifetime: try expiry.lifetime(), minTimestamp: minTimestamp), now: Date())
        for line in Self.warnings(result) {
            FileHandle.standardError.write(Data("icon: \(line)\n".utf8))
        }
        for line in Self.report(result) { printLine(line) }
    }

    /// The warning lines for standard error: one per skipped `.iso` file.
    static func warnings(_ result: Publisher.Result) -> [String] {
        result.skipped.map { "warning: skipped \(printable($0.path)): \($0.reason)" }
    }

    /// The lines printed after a publish.
    static func report(_ result: Publisher.Result) -> [String] {
        var lines = result.manifest.images.map { image in
            let source = result.sources[image.timestamp] == .hashed ? "hashed" : "kept"
            return "\(image.fileName)  volume \"\(printable(image.volumeID))\"  rollout \(image.rollout)‱  \(source)"
        }
        lines += result.deleted.map { "deleted \($0)" }
        lines.append(
            "manifest timestamp \(result.manifest.timestamp), \(result.manifest.images.count) image(s), "
                + "verified against \(result.rootsPath)")
        lines.append(validityLine(result.manifest))
        return lines
    }

    /// When the manifest expires and its floor, for the lines after a publish or rollout.
    static func validityLine(_ manifest: Manifest) -> String {
        var line = manifest.expires.map { "expires \(Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601)) (\($0))" }
            ?? "never expires"
        if let floor = manifest.minTimestamp { line += "; version floor \(floor)" }
        return line
    }
}
