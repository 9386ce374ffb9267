/// A `report` message: what the machine sent, plus what the server adds when forwarding it.
public struct Report: Sendable, Hashable {
    public var data: ReportData
    /// Unique id the server gives each forwarded report.
    public var id: String?
    /// Unix time the server received it.
    public var received: Int?
    /// The reporting connection's client certificate subject.
    public var client: String?

    public init(data: ReportData, id: String? = nil, received: Int? = nil, client: String? = nil) {
        self.data = data
        self.id = id
        self.received = received
        self.client = client
    }
}

/// A `command` message for one machine.
public struct Command: Sendable, Hashable {
    /// Hostname of the machine the command is for.
    public var target: String
    public var data: CommandData
    /// Unique id the server gives each forwarded command.
    public var id: String?
    /// Unix time the server received it.
    public var received: Int?
    /// The sending operator's client certificate subject.
    public var client: String?

    public init(target: String, data: CommandData, id: String? = nil, received: Int? = nil, client: String? = nil) {
        self.target = target
        self.data = data
        self.id = id
        self.received = received
        self.client = client
    }
}

/// The `data` of a command: `{"command":"reboot","timestamp":N}` (timestamp optional).
public struct CommandData: Codable, Sendable, Hashable {
    public var command: String
    /// Image to boot into, for `reboot`.
    public var timestamp: Int?

    public init(command: String, timestamp: Int? = nil) {
        self.command = command
        self.timestamp = timestamp
    }
}
