import ArgumentParser
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
            again; new images get --default-rollout. The manifest timestamp always increases. \
            The key and certificates are loaded first: if they are bad, nothing changes.

            Example:
              icon publish --image-dir /srv/images/demo \\
                --cert signer.cert.pem --key signer.key.pem \\
                --other-cert intermediate.cert.pem --default-rollout 1000 --max-images 5
            """
    )

    @Option(help: ArgumentHelp("Directory holding the <timestamp>.iso images of one image type.", valueName: "dir"))
    var imageDir: String

    @OptionGroup var signer: SignerOptions

    @Option(help: ArgumentHelp("Rollout of new images in basis points, 0-10000 (10000 = every device).", valueName: "bp"))
    var defaultRollout = 0

    @Option(help: ArgumentHelp("Keep only the newest N images and delete older ISOs; 0 keeps all.", valueName: "n"))
    var maxImages = 0

    public init() {}

    public func run() async throws {
        let result = try Publisher.publish(
            imageDir: imageDir, certPath: signer.cert, keyPath: signer.key, otherCertPaths: signer.otherCerts,
            defaultRollout: defaultRollout, maxImages: maxImages, now: Date())
        for line in Self.report(result) { printLine(line) }
    }

    /// The lines printed after a publish.
    static func report(_ result: Publisher.Result) -> [String] {
        var lines = result.manifest.images.map { image in
            let source = result.sources[image.timestamp] == .hashed ? "hashed" : "kept"
            return "\(image.fileName)  volume \"\(printable(image.volumeID))\"  rollout \(image.rollout)‱  \(source)"
        }
        lines += result.deleted.map { "deleted \($0)" }
        lines.append("manifest timestamp \(result.manifest.timestamp), \(result.manifest.images.count) image(s)")
        return lines
    }
}
