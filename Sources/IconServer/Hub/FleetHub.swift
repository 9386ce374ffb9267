public import Foundation
public import IconProtocol
public import Logging

/// Routes hub messages between machines (`/ws/slave`) and operators (`/ws/master`).
///
/// Connections hand the hub an `Outbox`; the hub never waits on a socket, so one slow client
/// cannot hold up the others (its outbox drops what it cannot buffer).
public actor FleetHub {
    /// Which endpoint a connection came in on.
    public enum Role: String, Sendable {
        case slave, master
    }

    /// Identifies one connection for the lifetime of the hub.
    public typealias ConnectionID = UInt64

    /// Where the hub puts text frames for one connection, and how it closes one.
    public struct Outbox: Sendable {
        let send: @Sendable (String) -> Bool
        let close: @Sendable (String) -> Void

        /// - Parameters:
        ///   - send: enqueue a frame; return `false` when it had to be dropped.
        ///   - close: close the connection (WebSocket close code 1008) with this one-line reason
        ///     of at most ``CloseReason/maximumBytes`` bytes; the connection then disconnects.
        public init(send: @escaping @Sendable (String) -> Bool, close: @escaping @Sendable (String) -> Void = { _ in }) {
            self.send = send
            self.close = close
        }
    }

    /// What happened to a message a connection sent.
    public enum Outcome: Sendable, Equatable {
        /// A report was forwarded to this many operators.
        case reported(operators: Int)
        /// A command reached its target machine (`true`) or no such machine is connected (`false`).
        case commanded(delivered: Bool)
        /// The message was dropped, with the reason that is logged.
        case dropped(String)
        /// The connection must be closed (WebSocket close code 1008) with this one-line reason
        /// of at most ``CloseReason/maximumBytes`` bytes, already logged.
        case refused(String)
    }

    /// What one connection may do and how much, against a machine that lies or floods.
    public struct Limits: Sendable, Equatable {
        /// Distinct host names one certificate (by subject) may claim beyond its own names, with
        /// ``ReportPermission/any(own:)`` (`--allow-any-report-hostname`); kept across restarts
        /// through the inventory.
        public var hostnamesPerCertificate: Int
        /// Distinct host names one connection may report under in its life.
        public var hostnamesPerConnection: Int
        /// A longer `status` is cut to this many bytes (between characters).
        public var statusBytes: Int
        /// A bigger report frame closes the connection.
        public var reportBytes: Int

        public init(hostnamesPerCertificate: Int = 16, hostnamesPerConnection: Int = 4, statusBytes: Int = 1024, reportBytes: Int = 16 * 1024) {
            self.hostnamesPerCertificate = hostnamesPerCertificate
            self.hostnamesPerConnection = hostnamesPerConnection
            self.statusBytes = statusBytes
            self.reportBytes = reportBytes
        }
    }

    struct Connection {
        let role: Role
        /// Client certificate subject, sent to others as `client`.
        let client: String
        /// Host names a machine may report under.
        let permission: ReportPermission
        let outbox: Outbox
        var hostname: String?
        /// Every host name this connection reported under, for ``Limits/hostnamesPerConnection``.
        var reported: Set<String> = []
        /// A newer connection took its host name; it is being closed.
        var replaced = false
    }

    public let imageTypes: [String]
    public let limits: Limits
    let logger: Logger
    let now: @Sendable () -> Date
    let makeID: @Sendable () -> String
    /// Where reports, machine arrivals and departures, and operator commands go for the inventory.
    let record: @Sendable (InventoryEvent) -> Void
    var connections: [ConnectionID: Connection] = [:]
    /// Indexes so a report or command costs O(operators), not O(connections), with thousands of machines.
    var masters: Set<ConnectionID> = []
    /// The one connection a host name's reports and commands belong to (the newest).
    var machinesByHostname: [String: ConnectionID] = [:]
    /// Host names claimed by each certificate subject outside its own names.
    var claims: [String: Set<String>]
    var nextID: ConnectionID = 1

    /// - Parameters:
    ///   - imageTypes: sent to every connection on connect.
    ///   - limits: what one certificate and one connection may do.
    ///   - claims: host names certificates (by subject) already reported under, from the
    ///     inventory (``FleetInventory/hostnamesByClient()``), so ``Limits/hostnamesPerCertificate``
    ///     holds across restarts.
    ///   - now: the clock for `received` fields.
    ///   - makeID: the `id` given to forwarded reports and commands.
    ///   - record: receives inventory events; it must return at once (e.g. `FleetInventory.record`).
    public init(
        imageTypes: [String], logger: Logger, limits: Limits = Limits(), claims: [String: Set<String>] = [:],
        now: @escaping @Sendable () -> Date = Date.init,
        makeID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        record: @escaping @Sendable (InventoryEvent) -> Void = { _ in }
    ) {
        self.record = record
        self.imageTypes = imageTypes
        self.limits = limits
        self.claims = claims
        self.logger = logger
        self.now = now
        self.makeID = makeID
    }

    /// Registers a connection and sends it `image_types` (and `targets` to an operator).
    ///
    /// - Parameter permission: for machines, the host names their certificate lets them report
    ///   under (``ReportPermission/forMachine(_:isOperator:anyHostname:)``).
    public func connect(role: Role, client: String, permission: ReportPermission = .any(own: []), outbox: Outbox) -> ConnectionID {
        let id = nextID
        nextID += 1
        connections[id] = Connection(role: role, client: client, permission: permission, outbox: outbox)
        if role == .master { masters.insert(id) }
        send(.imageTypes(imageTypes), to: id)
        if role == .master { send(.targets(targets), to: id) }
        logger.info("hub: \(role.rawValue) connected", metadata: ["client": "\(client)", "connection": "\(id)"])
        return id
    }

    /// Forgets a connection; operators get a new `targets` list if a machine left it.
    public func disconnect(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        masters.remove(id)
        logger.info("hub: \(connection.role.rawValue) disconnected", metadata: ["client": "\(connection.client)", "connection": "\(id)"])
        if let hostname = connection.hostname { setHostname(of: id, from: hostname, to: nil) }
    }

    /// Handles one message from a connection.
    ///
    /// - Parameter frameBytes: the size of the frame it came in, checked against ``Limits/reportBytes``.
    @discardableResult
    public func receive(_ message: HubMessage, from id: ConnectionID, frameBytes: Int = 0) -> Outcome {
        guard let connection = connections[id] else { return .dropped("connection \(id) is not registered") }
        switch (connection.role, message) {
        case (.slave, .report(let report)):
            return handleReport(report.data, frameBytes: frameBytes, from: id, connection: connection)
        case (.master, .command(let command)):
            return handleCommand(command, from: connection)
        default:
            let reason = "a \(connection.role.rawValue) may not send '\(message.type)'"
            logger.warning("hub: dropped message: \(reason)", metadata: ["client": "\(connection.client)"])
            return .dropped(reason)
        }
    }

    /// Tells every connection that `imageType` has a new manifest.
    public func announceNewManifest(imageType: String) {
        logger.info("hub: new manifest", metadata: ["image_type": "\(imageType)"])
        let message = HubMessage.newManifest(imageType: imageType)
        let text = message.jsonText()
        for id in connections.keys { send(text: text, type: message.type, to: id) }
    }

    /// Host names of the connected machines that have reported, sorted.
    public var targets: [String] { machinesByHostname.keys.sorted() }

    /// How many connections of each role are open.
    public func count(_ role: Role) -> Int { connections.values.count { $0.role == role } }

    @discardableResult
    func send(_ message: HubMessage, to id: ConnectionID) -> Bool {
        send(text: message.jsonText(), type: message.type, to: id)
    }

    @discardableResult
    func send(text: String, type: String, to id: ConnectionID) -> Bool {
        guard let connection = connections[id] else { return false }
        let sent = connection.outbox.send(text)
        if !sent {
            logger.warning("hub: outbox full, message dropped", metadata: ["client": "\(connection.client)", "type": "\(type)"])
        }
        return sent
    }

    func unixNow() -> Int { Int(now().timeIntervalSince1970) }
}
