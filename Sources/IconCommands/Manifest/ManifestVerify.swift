public import ArgumentParser
import Foundation
import IconCore
import IconManifest
import IconPKI
import X509

#if canImport(Glibc)
import Glibc
#endif

/// `icon verify-manifest`: check a signed manifest and show what a device would take.
public struct ManifestVerify: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify-manifest",
        abstract: "Verify a signed manifest and show which image a host would choose.",
        discussion: """
            Checks that the manifest's signer chains to --ca-cert (through the manifest's \
            other_certs) and may sign manifests, that the signature over the inner text holds \
            and that the text is a manifest. Then lists the images with their rollouts and, \
            for --hostname, the device's value per image and the image it would choose. \
            Exits non-zero when the manifest is rejected.

            Example:
              icon verify-manifest --ca-cert root.cert.pem --hostname robot-01 \\
                /srv/images/demo/manifest.json
            """
    )

    @Option(help: ArgumentHelp("PEM file with the trusted CA certificate(s).", valueName: "file"))
    var caCert: String

    @Option(help: ArgumentHelp("Hostname to evaluate the rollout for (default: this machine's).", valueName: "name"))
    var hostname: String?

    @Argument(help: ArgumentHelp("The signed manifest.json to check.", valueName: "manifest"))
    var manifest: String

    public init() {}

    public func run() async throws {
        let verifier = try ChainVerifier(rootsFile: caCert)
        guard let data = FileManager.default.contents(atPath: manifest) else {
            throw IconError(.notFound, "cannot read manifest \(manifest)")
        }
        if SignedManifest.isUnsignedManifest(data) {
            throw IconError(.malformed, Self.unsignedMessage(path: manifest))
        }
        let verdict = await SignedManifest.verify(data, verifier: verifier, now: Date())
        guard case .verified(let verified, let signer) = verdict else {
            if case .rejected(let reason) = verdict {
                throw IconError(verdict.rejectionCode ?? .badSignature, "\(manifest) rejected: \(reason)")
            }
            return
        }
        for line in Self.report(verified, signer: signer.subject.description, hostname: hostname ?? Self.systemHostname()) {
            printLine(line)
        }
    }

    /// The refusal of a bare manifest, pointing at the signed one beside it when there is one.
    static func unsignedMessage(path: String) -> String {
        var text = "\(path): this is the unsigned manifest; pass manifest.json"
        let directory = (path as NSString).deletingLastPathComponent
        let signed = directory.isEmpty ? Publisher.signedFileName : "\(directory)/\(Publisher.signedFileName)"
        if signed != path, FileManager.default.fileExists(atPath: signed) {
            text += " (\(signed))"
        }
        return text
    }

    /// The lines printed for a verified manifest.
    static func report(_ manifest: Manifest, signer: String, hostname: String) -> [String] {
        var lines = [
            "verified: signed by \(signer), manifest timestamp \(manifest.timestamp)",
            ManifestPublish.validityLine(manifest),
        ]
        let floor = manifest.minTimestamp ?? Int.min
        for image in manifest.images {
            let value = Rollout.basisPoints(hostname: hostname, timestamp: image.timestamp)
            let mark = image.timestamp < floor ? "below the floor" : value < image.rollout ? "admits" : "excludes"
            lines.append(
                "\(image.fileName)  volume \"\(printable(image.volumeID))\"  rollout \(image.rollout)‱  \(hostname)=\(value) \(mark)  sha256 \(image.hash)")
        }
        let belowFloor = Set(manifest.images.map(\.timestamp).filter { $0 < floor })
        if let chosen = Rollout.choose(from: manifest.images, hostname: hostname, excluding: belowFloor) {
            lines.append("\(hostname) would choose \(chosen.fileName)")
        } else {
            lines.append("\(hostname) would choose no image")
        }
        return lines
    }

    /// The kernel hostname, as the original client uses it.
    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
