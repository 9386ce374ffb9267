public import ArgumentParser
import Foundation
import IconCore
import IconServer
import Logging

/// `icon server`: serve images, the fleet hub, the dashboard and the inventory API over mutual TLS.
public struct ServerRun: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve published images and the fleet hub over HTTPS with mutual TLS.",
        discussion: """
            Serves GET and HEAD /image/<type>/<file> for each --image-type from \
            <image-path>/<type>/, with Range requests. Every client must present a certificate \
            that chains to a root in --client-ca-cert or --operator-ca-cert; TLS 1.2 or newer. \
            Intermediates come from the client, from those files, or from the CA certificates \
            in --cert, so a browser that sends only its leaf gets in. Paths with '..', hidden \
            files, unknown types and symlinks leading out of the type directory get 404 and \
            are never read.
            WebSockets on the same listener: /ws/slave (subprotocol iconograph-slave) for \
            machines and /ws/master (iconograph-master) for operators, who need a certificate \
            with the operator role or one from --operator-ca-cert. A refused request gets 403 \
            or 400 with the reason as one line of text. A machine is who its certificate \
            names: its DNS names, else its CN. A report under another hostname, under none, \
            from a certificate naming no hostname or from an operator certificate disconnects \
            it with WebSocket close code 1008 and the reason; when two connections report \
            under one name the newer keeps it and the older is closed. Every connection hears new_manifest \
            when a manifest.json is renamed into <image-path>/<type>/, also for a type \
            directory created after the start.
            GET / serves the fleet dashboard (compiled in; no other host is contacted). \
            --static-path name=dir serves /static/<name>/<file> with the same path checks as \
            images, with Content-Security-Policy: sandbox. --exec-handler name=path lets \
            operators POST /exec/<name> (a GET gets 405): the executable runs \
            with no arguments and no shell, its standard output is streamed as text/plain, and it \
            is killed after --exec-timeout seconds. With --state-dir the device inventory and the \
            audit log of operator commands are kept in <dir>/inventory.sqlite3 across restarts and \
            served to operators as JSON: /api/machines, /api/machines/<hostname>, /api/audit?limit=N.
            /ws/master, /api and /exec refuse a request whose Origin is not the server's own \
            (https:// and its Host) or an --allowed-origin (403); one without Origin, or with a \
            ws:// or wss:// one (WebSocket clients such as icon operator), passes.
            Runs until SIGINT or SIGTERM, then shuts down gracefully.

            Example:
              icon server --listen 0.0.0.0:8443 \\
                --image-path /srv/images --image-type demo \\
                --cert server.chain.pem --key server.key.pem \\
                --client-ca-cert root.cert.pem --state-dir /var/lib/icon \\
                --static-path docs=/srv/docs \\
                --exec-handler uptime=/usr/bin/uptime
            """
    )

    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free port.", valueName: "host:port"))
    var listen = "0.0.0.0:8443"

    @Option(help: ArgumentHelp("Directory with one sub-directory per image type.", valueName: "dir"))
    var imagePath: String

    @Option(help: ArgumentHelp("Image type to serve (a sub-directory of --image-path); repeat for several.", valueName: "type"))
    var imageType: [String] = []

    @Option(help: ArgumentHelp("PEM file with the server certificate followed by its intermediates (which also complete clients' chains).", valueName: "file"))
    var cert: String

    @Option(help: ArgumentHelp("PEM file with the server's private key.", valueName: "file"))
    var key: String

    @Option(help: ArgumentHelp("PEM file with the root CA certificate client certificates must chain to (intermediates may follow).", valueName: "file"))
    var clientCACert: String

    @Option(help: ArgumentHelp("PEM file with the root of a separate CA whose client certificates are operators (intermediates may follow).", valueName: "file"))
    var operatorCACert: String?

    @Flag(help: "Let a machine report under any hostname; by default only under its certificate's DNS names, else its CN.")
    var allowAnyReportHostname = false

    @Option(help: ArgumentHelp("Directory for the device inventory and audit log (inventory.sqlite3); none is kept without it.", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("Serve the files of <dir> at /static/<name>/<file>; repeat for several.", valueName: "name=dir"))
    var staticPath: [String] = []

    @Option(help: ArgumentHelp("Let operators run the executable <path> (no arguments, no shell) with POST /exec/<name>; repeat for several.", valueName: "name=path"))
    var execHandler: [String] = []

    @Option(help: ArgumentHelp("Seconds an --exec-handler may run before it is killed.", valueName: "n"))
    var execTimeout: Int = 30

    // Identity and cross-site flags (issue 11).
    @Option(help: ArgumentHelp("A web origin besides the server's own whose pages may use /ws/master, /api and /exec; repeat for several.", valueName: "url"))
    var allowedOrigin: [String] = []

    @Option(help: ArgumentHelp("With --allow-any-report-hostname: hostnames outside its own one certificate may report under.", valueName: "n"))
    var maxHostnamesPerCertificate = 16

    // Transport: timeouts and connection caps (ConnectionLimits).
    @Option(help: ArgumentHelp("Seconds a client has to complete the TLS handshake.", valueName: "seconds"))
    var tlsHandshakeTimeout = 10

    @Option(help: ArgumentHelp("Seconds a client has to send a whole request header, counted from the handshake or from the request's first byte.", valueName: "seconds"))
    var requestHeaderTimeout = 10

    @Option(help: ArgumentHelp("Seconds a connection may wait for its next request, and a response for a client that reads none of it.", valueName: "seconds"))
    var idleTimeout = 60

    @Option(help: ArgumentHelp("Seconds between the server's WebSocket pings; a peer silent for two intervals is disconnected.", valueName: "seconds"))
    var websocketPingInterval = 30

    @Option(help: ArgumentHelp("Open connections at most, WebSockets included; more are closed at accept.", valueName: "n"))
    var maxConnections = ConnectionLimits().maxConnections

    @Option(help: ArgumentHelp("Connections one address (IPv6: one /64) may hold before completing the TLS handshake.", valueName: "n"))
    var maxUnauthenticatedPerAddress = ConnectionLimits().maxUnauthenticatedPerAddress

    public init() {}

    public func run() async throws {
        let (host, port) = try Self.parseListen(listen)
        var configuration = ImageServerConfiguration(
            host: host, port: port, imagePath: imagePath, imageTypes: imageType,
            certificateChainPath: cert, privateKeyPath: key, clientCAPath: clientCACert,
            operatorCAPath: operatorCACert, restrictReportHostnames: !allowAnyReportHostname,
            stateDirectory: stateDir,
            staticPaths: try Self.parsePairs(staticPath, flag: "--static-path"),
            execHandlers: try Self.parsePairs(execHandler, flag: "--exec-handler"),
            execTimeout: .seconds(execTimeout),
            logger: Logger(label: "icon.server"))
        try applyIdentityFlags(to: &configuration)
        configuration.connectionLimits = fittedToOpenFileLimit(connectionLimits())
        let server = try ImageServer(configuration: configuration) { boundPort in
            let shown = host.contains(":") ? "[\(host)]" : host
            FileHandle.standardOutput.write(Data("listening on https://\(shown):\(boundPort)\n".utf8))
        }
        try await server.runUntilSignalled()
    }

    /// `--allowed-origin` and `--max-hostnames-per-certificate`.
    ///
    /// - Throws: `IconError(.invalidArgument)` naming the flag.
    func applyIdentityFlags(to configuration: inout ImageServerConfiguration) throws {
        guard maxHostnamesPerCertificate >= 0 else {
            throw IconError(.invalidArgument, "--max-hostnames-per-certificate \(maxHostnamesPerCertificate) must be 0 or more")
        }
        _ = try OriginPolicy(allowedOrigins: allowedOrigin)
        configuration.allowedOrigins = allowedOrigin
        configuration.maxHostnamesPerCertificate = maxHostnamesPerCertificate
    }

    /// The transport flags as limits (checked by `ImageServer`).
    func connectionLimits() -> ConnectionLimits {
        ConnectionLimits(
            tlsHandshakeTimeout: .seconds(tlsHandshakeTimeout), requestHeaderTimeout: .seconds(requestHeaderTimeout),
            idleTimeout: .seconds(idleTimeout), webSocketPingInterval: .seconds(websocketPingInterval),
            maxConnections: maxConnections, maxUnauthenticatedPerAddress: maxUnauthenticatedPerAddress)
    }

    /// Raises the open-file limit as far as allowed and keeps `--max-connections` within it, so
    /// the cap refuses connections before `accept` runs out of descriptors (which would stall
    /// every client). Says so on stderr when the cap is lowered.
    func fittedToOpenFileLimit(_ limits: ConnectionLimits) -> ConnectionLimits {
        guard let files = OpenFileLimit.raise() else { return limits }
        let fitting = max(1, files - OpenFileLimit.reserved)
        guard limits.maxConnections > fitting else { return limits }
        var fitted = limits
        fitted.maxConnections = fitting
        FileHandle.standardError.write(Data(
            "icon server: notice: --max-connections \(limits.maxConnections) does not fit the open-file limit of \(files); using \(fitting) (raise it with ulimit -n or LimitNOFILE=)\n".utf8))
        return fitted
    }

    /// Parses repeated `name=value` options into a dictionary.
    ///
    /// - Throws: `IconError(.invalidArgument)` naming the flag for a value without `=`, an empty
    ///   side, or a name given twice.
    static func parsePairs(_ values: [String], flag: String) throws -> [String: String] {
        var pairs: [String: String] = [:]
        for value in values {
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex,
                value.index(after: equals) != value.endIndex
            else {
                throw IconError(.invalidArgument, "\(flag) '\(value)' is not name=value")
            }
            let name = String(value[..<equals])
            guard pairs[name] == nil else {
                throw IconError(.invalidArgument, "\(flag): '\(name)' is given twice")
            }
            pairs[name] = String(value[value.index(after: equals)...])
        }
        return pairs
    }

    /// Splits `host:port` (`[v6]:port` for IPv6).
    ///
    /// - Throws: `IconError(.invalidArgument)` naming `--listen`.
    static func parseListen(_ value: String) throws -> (host: String, port: Int) {
        let bad = IconError(.invalidArgument, "--listen '\(value)' is not host:port (e.g. 0.0.0.0:8443 or [::]:8443)")
        guard let colon = value.lastIndex(of: ":") else { throw bad }
        var host = String(value[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw bad
        }
        guard !host.isEmpty, let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port) else {
            throw bad
        }
        return (host, port)
    }
}
