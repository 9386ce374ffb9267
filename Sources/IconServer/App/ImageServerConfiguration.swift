import IconCore
public import Logging

/// Everything the image server needs to start: where to listen, what to serve and the mTLS material.
public struct ImageServerConfiguration: Sendable {
    /// Address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
    public var host: String
    /// Port to bind; 0 picks an ephemeral port (reported through `onListening`).
    public var port: Int
    /// Root directory holding one sub-directory per image type.
    public var imagePath: String
    /// Image types served below `imagePath`; any other type is answered with 404.
    public var imageTypes: [String]
    /// PEM file with the server certificate followed by its intermediates.
    public var certificateChainPath: String
    /// PEM file with the server's private key.
    public var privateKeyPath: String
    /// PEM file with the CA certificates client certificates must chain to.
    public var clientCAPath: String
    /// PEM file of a separate CA whose client certificates are operators (also trusted for TLS), or `nil`.
    public var operatorCAPath: String?
    /// Size of the chunks read from disk and written to the connection.
    public var chunkSize: Int
    /// Largest WebSocket message the hub accepts; a bigger one closes the connection.
    public var maxHubMessageSize: Int
    /// Messages a hub connection may send per second before it is closed.
    public var maxHubMessagesPerSecond: Int
    /// Whether a machine may only report under a DNS name its certificate carries (when it carries any).
    public var restrictReportHostnames: Bool
    /// Whether to watch the image directories for new manifests (inotify).
    public var watchManifests: Bool
    /// Directory for the device inventory (`inventory.sqlite3`), or `nil` to keep none.
    public var stateDirectory: String?
    /// `/static/<name>/<file>`: name → directory.
    public var staticPaths: [String: String]
    /// `/exec/<name>` (operators only): name → absolute path of an executable run without arguments.
    public var execHandlers: [String: String]
    /// How long an exec handler may run before it is killed.
    public var execTimeout: Duration
    /// Logger for the one-line-per-request log and server events.
    public var logger: Logger

    // Identity and cross-site settings (issue 11); set after `init`.
    /// `--allowed-origin`: web origins besides the server's own whose pages may use
    /// `/ws/master`, `/api` and `/exec` (`scheme://host[:port]`).
    public var allowedOrigins: [String] = []
    /// `--max-hostnames-per-certificate`: with `restrictReportHostnames` off, how many host names
    /// outside its own one certificate may report under.
    public var maxHostnamesPerCertificate: Int = 16

    // Transport: timeouts, connection caps, request-head limits, WebSocket pings.
    /// What one peer, or all of them, may hold of the server (checked by `ImageServer.init`).
    public var connectionLimits = ConnectionLimits()

    public init(
        host: String = "0.0.0.0",
        port: Int = 8443,
        imagePath: String,
        imageTypes: [String],
        certificateChainPath: String,
        privateKeyPath: String,
        clientCAPath: String,
        operatorCAPath: String? = nil,
        chunkSize: Int = 256 * 1024,
        maxHubMessageSize: Int = 1 << 20,
        maxHubMessagesPerSecond: Int = 50,
        restrictReportHostnames: Bool = true,
        watchManifests: Bool = true,
        stateDirectory: String? = nil,
        staticPaths: [String: String] = [:],
        execHandlers: [String: String] = [:],
        execTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "icon.server")
    ) {
        self.stateDirectory = stateDirectory
        self.staticPaths = staticPaths
        self.execHandlers = execHandlers
        self.execTimeout = execTimeout
        self.host = host
        self.port = port
        self.imagePath = imagePath
        self.imageTypes = imageTypes
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.operatorCAPath = operatorCAPath
        self.chunkSize = chunkSize
        self.maxHubMessageSize = maxHubMessageSize
        self.maxHubMessagesPerSecond = maxHubMessagesPerSecond
        self.restrictReportHostnames = restrictReportHostnames
        self.watchManifests = watchManifests
        self.logger = logger
    }

    /// Checks the values that do not need the file system.
    ///
    /// - Throws: `IconError(.invalidArgument)` for a bad port, no image types, a type, static or
    ///   exec name that is empty, hidden or contains a slash, or an exec path that is not absolute.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw IconError(.invalidArgument, "--listen: port \(port) is not between 0 and 65535")
        }
        guard !imageTypes.isEmpty else {
            throw IconError(.invalidArgument, "--image-type: give at least one image type to serve")
        }
        for type in imageTypes where !ImagePathResolver.isSafeComponent(type) {
            throw IconError(.invalidArgument, "--image-type: '\(type)' is not a plain directory name")
        }
        for name in staticPaths.keys where !ImagePathResolver.isSafeComponent(name) {
            throw IconError(.invalidArgument, "--static-path: '\(name)' is not a plain name")
        }
        for (name, path) in execHandlers {
            guard ImagePathResolver.isSafeComponent(name) else {
                throw IconError(.invalidArgument, "--exec-handler: '\(name)' is not a plain name")
            }
            guard path.hasPrefix("/") else {
                throw IconError(.invalidArgument, "--exec-handler \(name)=\(path): give an absolute path to an executable")
            }
        }
        guard execTimeout > .zero else {
            throw IconError(.invalidArgument, "exec timeout must be positive")
        }
        guard chunkSize > 0 else {
            throw IconError(.invalidArgument, "chunk size must be positive, got \(chunkSize)")
        }
    }
}
