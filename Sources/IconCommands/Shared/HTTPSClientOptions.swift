import ArgumentParser

/// The TLS flags of every command that talks HTTPS to an image or archive server, as the
/// original's imager and client name them.
struct HTTPSClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "PEM file of the CA(s) the HTTPS server certificate must chain to (default: system roots).",
        valueName: "file"))
    var httpsCACert: String?

    @Option(help: ArgumentHelp(
        "PEM client certificate (with its chain) for mutual TLS; needs --https-client-key.", valueName: "file"))
    var httpsClientCert: String?

    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String?
}
