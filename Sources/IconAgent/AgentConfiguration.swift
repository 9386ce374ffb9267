public import Foundation
import IconCore
public import IconFleetClient
public import IconTLS
import IconProtocol

/// How the device agent reaches its server and how often it reports.
public struct AgentConfiguration: Sendable {
    /// The server, `wss://host:port`; `/ws/slave` is added when the URL has no path.
    public var serverURL: String
    /// The DNS name expected in the server certificate (and sent as SNI) when it is not the
    /// URL's host. Without it, a URL naming an IP address needs a certificate carrying that
    /// address.
    public var serverName: String?
    /// PEM file of the CAs that may sign the server certificate.
    public var httpsCACert: String
    /// PEM client certificate (with its chain) and key for mutual TLS.
    public var clientCert: String
    public var clientKey: String
    /// The image type this machine follows; `new_manifest` for other types is ignored.
    public var imageType: String
    public var reportInterval: Duration
    public var backoff: Backoff
    /// Boot safety: nil leaves grubenv alone (no rollback check, nothing marked good).
    public var bootGuard: BootGuardConfiguration?

    public init(
        serverURL: String, serverName: String? = nil, httpsCACert: String, clientCert: String,
        clientKey: String, imageType: String, reportInterval: Duration = .seconds(5),
        backoff: Backoff = Backoff(), bootGuard: BootGuardConfiguration? = nil
    ) {
        self.bootGuard = bootGuard
        self.serverURL = serverURL
        self.serverName = serverName
        self.httpsCACert = httpsCACert
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.imageType = imageType
        self.reportInterval = reportInterval
        self.backoff = backoff
    }

    /// The WebSocket URL with `/ws/slave` and the name to check in the server certificate.
    ///
    /// - Throws: `.invalidArgument` naming the URL when it is not `wss://host[:port]`.
    public func endpoint() throws -> HubEndpoint {
        try HubEndpoint.resolve(server: serverURL, serverName: serverName, path: FleetPaths.machineSocket)
    }

    /// The CA, certificate and key files, named by the agent's flags.
    public var tlsFiles: ClientTLSFiles {
        ClientTLSFiles(caCertPath: httpsCACert, clientCertPath: clientCert, clientKeyPath: clientKey)
    }
}

/// What the agent does on the machine: fetch an image and rewrite the boot menu, reboot, run
/// the health command, and the clocks boot safety uses. Injected so tests can watch the agent
/// without downloading, rebooting or waiting.
public struct AgentActions: Sendable {
    /// Fetches the image the rollout rule chooses (nil) or the given one, rewrites the boot
    /// menu, and returns a one-line status.
    public var update: @Sendable (_ forcedTimestamp: Int?) async throws -> String
    /// Reboots the machine.
    public var reboot: @Sendable () async throws -> Void
    /// What a `new_manifest` push and each connect do: like `update(nil)`, but only when the
    /// server's manifest is newer than the last one applied; nil when there was nothing new.
    public var catchUp: @Sendable () async throws -> String?
    /// Runs the health command once; true when it succeeded (or there is none).
    public var healthCheck: @Sendable () async -> Bool
    /// Seconds since the machine booted.
    public var uptime: @Sendable () -> Double
    /// Sleeps (cancellable).
    public var sleep: @Sendable (Duration) async throws -> Void
    /// The wall clock in Unix seconds.
    public var now: @Sendable () -> Int

    public init(
        update: @escaping @Sendable (_ forcedTimestamp: Int?) async throws -> String,
        reboot: @escaping @Sendable () async throws -> Void,
        catchUp: (@Sendable () async throws -> String?)? = nil,
        healthCheck: @escaping @Sendable () async -> Bool = { true },
        uptime: @escaping @Sendable () -> Double = AgentActions.processUptime,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
    ) {
        self.update = update
        self.reboot = reboot
        self.catchUp = catchUp ?? { try await update(nil) }
        self.healthCheck = healthCheck
        self.uptime = uptime
        self.sleep = sleep
        self.now = now
    }

    /// `/proc/uptime`, or the time since this process started when it cannot be read.
    @Sendable public static func processUptime() -> Double {
        if let text = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            let first = text.split(separator: " ").first, let seconds = Double(first)
        {
            return seconds
        }
        return ProcessInfo.processInfo.systemUptime
    }
}
