public import ArgumentParser
import Foundation
import IconCore
import IconManifest

/// `icon rollout`: change one image's rollout and re-sign.
public struct ManifestRollout: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Change the rollout of one published image and re-sign the manifest.",
        discussion: """
            Sets rollout_‱ of the image --timestamp in manifest.json.unsigned of --image-dir \
            and writes a newly signed manifest.json in the same step (no hand-editing JSON). \
            A device takes an image when its per-image value (0-9999, from its hostname) is \
            below the rollout, so raising the rollout only adds devices. Later `icon publish` \
            runs keep the value. The new manifest expires --expires-in after signing (30 \
            days unless told) and keeps the version floor.

            The signer is checked as for icon publish (against --ca-cert, or root.cert.pem \
            beside --other-cert, beside --cert or in ca/ beside --cert), and the signed \
            manifest is verified before it is written; on a refusal nothing changes.

            Example:
              icon rollout --image-dir /srv/icon/images/robot \\
                --timestamp 1700000000 --rollout 10000 \\
                --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem \\
                --other-cert /etc/icon/ca/intermediate.cert.pem
            """
    )

    @Option(help: ArgumentHelp("Image directory holding manifest.json.unsigned.", valueName: "dir"))
    var imageDir: String

    @Option(help: ArgumentHelp("Timestamp of the image to change (its file is <timestamp>.iso).", valueName: "n"))
    var timestamp: Int

    @Option(help: ArgumentHelp("New rollout in basis points, 0-10000 (10000 = every device).", valueName: "n"))
    var rollout: Int

    @OptionGroup var signer: SignerOptions

    @OptionGroup var expiry: ExpiryOptions

    public init() {}

    public func run() async throws {
        let manifest = try await Publisher.setRollout(
            imageDir: imageDir, timestamp: timestamp, rollout: rollout, certPath: signer.firstCert,
            keyPath: signer.firstKey, otherCertPaths: signer.otherCerts, coSigners: signer.coSigners, crlPaths: signer.crl, caCertPath: signer.caCert,
            validity: ManifestValidity(lifetime: try expiry.lifetime()), now: Date())
        printLine(
            "\(timestamp).iso rollout \(rollout)‱; manifest timestamp \(manifest.timestamp); "
                + ManifestPublish.validityLine(manifest))
    }
}
