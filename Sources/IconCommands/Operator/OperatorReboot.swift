import ArgumentParser
import IconCore
import IconFleetClient
import IconProtocol
import Synchronization

/// `icon operator reboot`: the dashboard's version picker, from a shell.
struct OperatorReboot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reboot",
        abstract: "Tell one machine to reboot, optionally into a chosen image.",
        discussion: """
            Sends the original's command message {"type":"command","target":HOST,"data":\
            {"command":"reboot","timestamp":T}} and waits until the machine answers with a \
            report: "Rebooting into T..." succeeds; "Cannot reboot into T: ..." (the image is \
            not in its manifest, or fails verification) fails with that reason. Without \
            --timestamp the machine reboots into the image its boot menu already names.

            A timestamp the machine marked bad after a failed boot is still allowed: the \
            operator's choice overrides the machine's (see "Boot safety" in the README).

            Example:
              icon operator reboot --server wss://images.example.net:8443 \\
                --https-ca-cert root.cert.pem --https-client-cert ops.chain.pem \\
                --https-client-key ops.key.pem --host robot-7 --timestamp 1700000000
            """
    )

    @OptionGroup var connection: OperatorConnectionOptions

    @Option(help: ArgumentHelp("Hostname of the machine, as it reports itself.", valueName: "name"))
    var host: String

    @Option(help: ArgumentHelp("Image to boot into (its timestamp).", valueName: "timestamp"))
    var timestamp: Int?

    @Option(help: ArgumentHelp("Seconds to wait for the machine's answer.", valueName: "seconds"))
    var wait: Int = 120

    func run() async throws {
        guard wait > 0 else { throw IconError(.invalidArgument, "--wait must be at least 1 second") }
        let session = try connection.session()
        let host = host
        let command = HubMessage.command(Command(target: host, data: CommandData(command: "reboot", timestamp: timestamp)))
        enum Outcome { case waiting, notConnected, sent, answered(String) }
        let outcome = Mutex(Outcome.waiting)
        let finished = try await session.run(timeout: .seconds(wait)) { message in
            outcome.withLock { state -> OperatorSession.Next in
                switch (state, message) {
                case (.waiting, .targets(let targets)):
                    guard targets.contains(host) else {
                        state = .notConnected
                        return .stop
                    }
                    state = .sent
                    return .send([command])
                case (.sent, .report(let report)) where report.data.hostname == host:
                    guard let status = report.data.status,
                        status.hasPrefix("Rebooting") || status.hasPrefix("Cannot reboot")
                    else { return .continue }
                    state = .answered(status)
                    return .stop
                default:
                    return .continue
                }
            }
        }
        switch outcome.withLock({ $0 }) {
        case .answered(let status) where status.hasPrefix("Rebooting"):
            printLine("\(printable(host)): \(printable(status))")
        case .answered(let status):
            throw IconError(.toolFailed, "machine \(host) refused: \(printable(status))")
        case .notConnected:
            throw IconError(.notFound, "machine \(host) is not connected to \(session.url)")
        case .waiting:
            throw IconError(.network, "\(session.url) sent no list of connected machines within \(wait) s")
        case .sent:
            _ = finished
            throw IconError(.network, "machine \(host) did not answer within \(wait) s")
        }
    }
}
