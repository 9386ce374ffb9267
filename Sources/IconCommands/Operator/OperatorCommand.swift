public import ArgumentParser
import IconFleetClient
import IconTLS
import Logging

/// `icon operator`: what the dashboard does, from a shell.
public struct OperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Drive a fleet from the command line over the server's /ws/master.",
        discussion: """
            The same WebSocket and messages the dashboard uses, with an operator certificate \
            (`icon pki issue --role operator`). Scripts use these to reboot machines into a chosen \
            image and to wait until a machine reports what they expect.

            --server may name the server by IP address (wss://127.0.0.1:8443): its certificate \
            must then carry that address, or --server-name gives a DNS name it carries. When \
            the server refuses the connection (HTTP 403 on the upgrade, e.g. for a device \
            certificate on /ws/master), its reason is printed. The TLS files are checked \
            (present, parsing, key matching certificate) before connecting.

            Example:
              icon operator reboot --server wss://images.example.net:8443 \\
                --https-ca-cert root.cert.pem --https-client-cert ops.chain.pem \\
                --https-client-key ops.key.pem --host robot-7 --timestamp 1700000000
            """,
        subcommands: [OperatorReboot.self, OperatorWatch.self]
    )

    public init() {}
}

/// The connection flags every `icon operator` command takes.
struct OperatorConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server, wss://host:port (the path /ws/master is added).", valueName: "url"))
    var server: String

    @Option(help: ArgumentHelp(
        "DNS name to check in the server certificate (and send as SNI) instead of the --server host.", valueName: "name"))
    var serverName: String?

    @Option(help: ArgumentHelp("PEM file of the CAs that may sign the server certificate.", valueName: "file"))
    var httpsCACert: String

    @Option(help: ArgumentHelp("PEM operator certificate (with its chain).", valueName: "file"))
    var httpsClientCert: String

    @Option(help: ArgumentHelp("PEM private key of --https-client-cert.", valueName: "file"))
    var httpsClientKey: String

    func session() throws -> OperatorSession {
        try OperatorSession(
            server: server, serverName: serverName,
            tls: ClientTLSFiles(caCertPath: httpsCACert, clientCertPath: httpsClientCert, clientKeyPath: httpsClientKey),
            logger: Logger(label: "icon.operator"))
    }
}
