import ArgumentParser
import IconManifest

/// The signing identity flags shared by `icon publish` and `icon rollout`, and the roots the
/// signed manifest is checked against before it is written. `--cert` and `--key` repeat, in
/// pairs, for a manifest several signers sign (machines with `--signature-threshold`).
struct SignerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "PEM file with the manifest signing certificate (may be followed by its chain); repeat, each with its --key, "
                + "for more signers.",
            valueName: "file"))
    var cert: [String] = []

    @Option(help: ArgumentHelp("PEM file with the signing certificate's private key (EC P-256/P-384 or RSA); one per --cert.", valueName: "file"))
    var key: [String] = []

    @Option(
        name: .customLong("other-cert"),
        help: ArgumentHelp("PEM file with a chain certificate (e.g. the intermediate) to include; repeatable.", valueName: "file"))
    var otherCerts: [String] = []

    @Option(
        help: ArgumentHelp(
            "PEM file with the root CA certificate(s) the machines trust (their --ca-cert); default: root.cert.pem "
                + "beside an --other-cert file, beside --cert, or in ca/ beside --cert.",
            valueName: "file"))
    var caCert: String?

    @Option(
        help: ArgumentHelp(
            "PEM file with a revocation list (icon pki revoke) to carry in the manifest; machines keep the newest and "
                + "refuse manifests of the signers it revokes. Repeatable.",
            valueName: "file"))
    var crl: [String] = []

    func validate() throws {
        guard !cert.isEmpty else { throw ValidationError("Missing expected argument '--cert <file>'") }
        guard !key.isEmpty else { throw ValidationError("Missing expected argument '--key <file>'") }
        guard key.count == cert.count else {
            throw ValidationError("--cert and --key come in pairs: got \(cert.count) --cert and \(key.count) --key")
        }
    }

    /// The first signer's certificate file (its signature is also the original's `sig`).
    var firstCert: String { cert[0] }
    /// The first signer's key file.
    var firstKey: String { key[0] }

    /// The signers after the first.
    var coSigners: [Publisher.SignerPaths] {
        zip(cert.dropFirst(), key.dropFirst()).map { Publisher.SignerPaths(certPath: $0, keyPath: $1) }
    }
}
