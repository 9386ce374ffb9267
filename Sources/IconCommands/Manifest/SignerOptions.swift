import ArgumentParser

/// The signing identity flags shared by `icon publish` and `icon rollout`, and the roots the
/// signed manifest is checked against before it is written.
struct SignerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PEM file with the manifest signing certificate (may be followed by its chain).", valueName: "file"))
    var cert: String

    @Option(help: ArgumentHelp("PEM file with the signing certificate's private key (EC P-256/P-384 or RSA).", valueName: "file"))
    var key: String

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
}
