public import IconProtocol

/// Something the hub saw that the device inventory keeps: a report, a machine coming or going,
/// or an operator command.
public enum InventoryEvent: Sendable, Equatable {
    /// A machine reported (`received` in Unix seconds); `client` is its certificate subject.
    case report(hostname: String, data: ReportData, received: Int, client: String)
    /// The first connection reporting under `hostname` appeared (`true`) or the last one left.
    case connection(hostname: String, connected: Bool, at: Int)
    /// An operator sent a command.
    case command(AuditEntry)
}

/// One line of the audit log: an operator command and whether it reached a machine.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Row id, assigned by the database (`nil` before it is stored).
    public var id: Int64?
    /// Unix seconds when the server received the command.
    public var time: Int
    /// The operator's certificate subject.
    public var `operator`: String
    /// Hostname the command was for.
    public var target: String
    /// The command's `data` object as sent, e.g. `{"command":"reboot","timestamp":1700000000}`.
    public var command: CommandData
    /// The id the hub gave the forwarded command.
    public var commandID: String?
    /// Whether at least one connection of the target took the command.
    public var delivered: Bool
    /// Why, in words: "delivered to 1 connection", "no machine 'x' is connected", ...
    public var reason: String

    public init(
        id: Int64? = nil, time: Int, operator: String, target: String, command: CommandData, commandID: String?,
        delivered: Bool, reason: String
    ) {
        self.id = id
        self.time = time
        self.operator = `operator`
        self.target = target
        self.command = command
        self.commandID = commandID
        self.delivered = delivered
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case id, time, `operator`, target, command, delivered, reason
        case commandID = "command_id"
    }
}
