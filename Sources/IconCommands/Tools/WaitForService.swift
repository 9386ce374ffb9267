public import ArgumentParser
import Foundation
import IconCore
import IconMachineTools

/// `icon wait-for-service`: blocks until a TCP service accepts connections.
public struct WaitForService: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wait-for-service",
        abstract: "Wait until a TCP connection to a host and port succeeds.",
        discussion: """
            Retries a TCP connect once a second until it succeeds, then prints one line and exits 0. \
            With --timeout it gives up after that many seconds and exits 1. For boot scripts that must \
            not start before a server is reachable.

            Example:
              icon wait-for-service --host imageserver.example.com \\
                --service https --timeout 120
            """)

    @Option(help: ArgumentHelp("Host name or address to connect to.", valueName: "host"))
    var host: String
    @Option(help: ArgumentHelp("Port number or service name (from /etc/services).", valueName: "port"))
    var service: String
    @Option(help: ArgumentHelp("Seconds to wait before giving up (default: wait forever).", valueName: "seconds"))
    var timeout: Double?

    public init() {}

    public func run() async throws {
        if let timeout, timeout <= 0 {
            throw IconError(.invalidArgument, "--timeout must be positive")
        }
        let waiter = ServiceWaiter(host: host, service: service, timeout: timeout.map { .milliseconds(Int64($0 * 1000)) })
        let attempts = try await waiter.wait()
        FileHandle.standardOutput.write(Data("\(host):\(service) is accepting connections (after \(attempts) attempt\(attempts == 1 ? "" : "s"))\n".utf8))
    }
}
