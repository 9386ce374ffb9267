import ArgumentParser
import Foundation
import IconCore
import IconFleetClient
import IconProtocol
import Synchronization

/// `icon operator watch`: prints machines' reports, or waits for one to say something.
struct OperatorWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print the reports machines send, or wait until one matches.",
        discussion: """
            Prints one line per report: hostname, running image, next image, status. With \
            --json, prints each report message as the server forwarded it.

            With --until-timestamp (and optionally --until-status), exits 0 at the first report \
            from --host that runs that image (and whose status contains the text); exits 1 when \
            --timeout passes first. Without a condition it prints until --timeout (0: forever).

            Example (wait up to 10 minutes for robot-7 to come back on an image):
              icon operator watch --server wss://images.example.net:8443 \\
                --https-ca-cert root.cert.pem --https-client-cert ops.chain.pem \\
                --https-client-key ops.key.pem --host robot-7 \\
                --until-timestamp 1700000000 --timeout 600
            """
    )

    @OptionGroup var connection: OperatorConnectionOptions

    @Option(help: ArgumentHelp("Only reports from this hostname.", valueName: "name"))
    var host: String?

    @Option(help: ArgumentHelp("Stop at the first report running this image (needs --host).", valueName: "timestamp"))
    var untilTimestamp: Int?

    @Option(help: ArgumentHelp("With --until-timestamp: the status must also contain this text.", valueName: "text"))
    var untilStatus: String?

    @Option(help: ArgumentHelp("Seconds to watch; 0 watches until interrupted.", valueName: "seconds"))
    var timeout: Int = 0

    @Flag(help: "Print each report as JSON.")
    var json = false

    func run() async throws {
        guard timeout >= 0 else { throw IconError(.invalidArgument, "--timeout must be 0 or more") }
        if untilTimestamp != nil, host == nil {
            throw IconError(.invalidArgument, "--until-timestamp needs --host")
        }
        if untilStatus != nil, untilTimestamp == nil {
            throw IconError(.invalidArgument, "--until-status needs --until-timestamp")
        }
        let session = try connection.session()
        let (host, untilTimestamp, untilStatus, json) = (host, untilTimestamp, untilStatus, json)
        let limit: Duration = timeout == 0 ? .seconds(Int64(Int32.max)) : .seconds(timeout)
        let matched = try await session.run(timeout: limit) { message in
            guard case .report(let report) = message else { return .continue }
            let data = report.data
            if let host, data.hostname != host { return .continue }
            printLine(json ? message.jsonText() : Self.line(data))
            guard let untilTimestamp, data.timestamp == untilTimestamp else { return .continue }
            if let untilStatus, !(data.status ?? "").contains(untilStatus) { return .continue }
            return .stop
        }
        if untilTimestamp != nil, !matched {
            throw IconError(
                .notFound, "machine \(host ?? "") did not report image \(untilTimestamp ?? 0) within \(timeout) s")
        }
    }

    static func line(_ data: ReportData) -> String {
        let running = data.timestamp.map(String.init) ?? "-"
        let next = data.nextTimestamp.map(String.init) ?? "-"
        return printable("\(data.hostname ?? "?") running=\(running) next=\(next) status=\(data.status ?? "")")
    }
}
