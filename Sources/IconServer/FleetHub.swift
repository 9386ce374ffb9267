import Foundation
import IconProtocol
import Logging

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

    /// Where the hub puts text frames for one connection.
    public struct Outbox: Sendable {
        let send: @Sendable (String) -> Bool

        /// - Parameter send: enqueue a frame; return `false` when it had to be dropped.
        public init(send: @escaping @Sendable (String) -> Bool) { self.send = send }
    }

    /// What happened to a message a connection sent.
    public enum Outcome: Sendable, Equatable {
        /// A report was forwarded to this many operators.
        case reported(operators: Int)
        /// A command reached its target machine (`true`) or no such machine is connected (`false`).
        case commanded(delivered: Bool)
        /// The message was dropped, with the reason that is logged.
        case dropped(String)
    }

    struct Connection {
        let role: Role
        /// Client certificate subject, sent to others as `client`.
        let client: String
        /// Host names a machine may report under; `nil` allows any.
        let allowedHostnames: Set<String>?
        let outbox: Outbox
        var hostname: String?
    }

    public let imageTypes: [String]
    let logger: Logger
    let now: @Sendable () -> Date
    let makeID: @Sendable () -> String
    var connections: [ConnectionID: Connection] = [:]
    var nextID: ConnectionID = 1

    /// - Parameters:
    ///   - imageTypes: sent to every connection on connect.
    ///   - now: the clock for `received` fields.
    ///   - makeID: the `id` given to forwarded reports and commands.
    public init(
        imageTypes: [String], logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        makeID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }
    ) {
        self.imageTypes = imageTypes
        self.logger = logger
        self.now = now
        self.makeID = makeID
    }

    /// Registers a connection and sends it `image_types` (and `targets` to an operator).
    ///
    /// - Parameter allowedHostnames: for machines, the names their certificate carries; `nil` allows any.
    public func connect(role: Role, client: String, allowedHostnames: Set<String>? = nil, outbox: Outbox) -> ConnectionID {
        let id = nextID
        nextID += 1
        connections[id] = Connection(role: role, client: client, allowedHostnames: allowedHostnames, outbox: outbox)
        send(.imageTypes(imageTypes), to: id)
        if role == .master { send(.targets(targets), to: id) }
        logger.info("hub: \(role.rawValue) connected", metadata: ["client": "\(client)", "connection": "\(id)"])
        return id
    }

    /// Forgets a connection; operators get a new `targets` list if a machine left it.
    public func disconnect(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        logger.info("hub: \(connection.role.rawValue) disconnected", metadata: ["client": "\(connection.client)", "connection": "\(id)"])
        if connection.hostname != nil { targetsMayHaveChanged(from: targets(including: connection)) }
    }

    /// Handles one message from a connection.
    @discardableResult
    public func receive(_ message: HubMessage, from id: ConnectionID) -> Outcome {
        guard let connection = connections[id] else { return .dropped("connection \(id) is not registered") }
        switch (connection.role, message) {
        case (.slave, .report(let report)):
            return handleReport(report.data, from: id, connection: connection)
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
        for id in connections.keys { send(.newManifest(imageType: imageType), to: id) }
    }

    /// Host names of the connected machines that have reported, sorted.
    public var targets: [String] {
        Set(connections.values.compactMap { $0.role == .slave ? $0.hostname : nil }).sorted()
    }

    /// How many connections of each role are open.
    public func count(_ role: Role) -> Int { connections.values.count { $0.role == role } }

    func handleReport(_ data: ReportData, from id: ConnectionID, connection: Connection) -> Outcome {
        guard let hostname = data.hostname, !hostname.isEmpty else {
            return drop("report without hostname", connection)
        }
        if let allowed = connection.allowedHostnames, !allowed.contains(hostname) {
            return drop("report for '\(hostname)' but the certificate names \(allowed.sorted())", connection)
        }
        if connection.hostname != hostname {
            let before = targets
            connections[id]?.hostname = hostname
            targetsMayHaveChanged(from: before)
        }
        let forwarded = HubMessage.report(
            Report(data: data, id: makeID(), received: unixNow(), client: connection.client))
        let operators = connections.filter { $0.value.role == .master }.map(\.key)
        for id in operators { send(forwarded, to: id) }
        return .reported(operators: operators.count)
    }

    func handleCommand(_ command: Command, from connection: Connection) -> Outcome {
        let forwarded = HubMessage.command(
            Command(target: command.target, data: command.data, id: makeID(), received: unixNow(), client: connection.client))
        let machines = connections.filter { $0.value.role == .slave && $0.value.hostname == command.target }.map(\.key)
        var delivered = false
        for id in machines where send(forwarded, to: id) { delivered = true }
        logger.info(
            "hub: command \(command.data.command) for \(command.target) \(delivered ? "delivered" : "not delivered")",
            metadata: ["client": "\(connection.client)"])
        return .commanded(delivered: delivered)
    }

    func drop(_ reason: String, _ connection: Connection) -> Outcome {
        logger.warning("hub: dropped message: \(reason)", metadata: ["client": "\(connection.client)"])
        return .dropped(reason)
    }

    func targets(including extra: Connection) -> [String] {
        (Set(targets).union(extra.hostname.map { [$0] } ?? [])).sorted()
    }

    func targetsMayHaveChanged(from before: [String]) {
        let after = targets
        guard after != before else { return }
        for (id, connection) in connections where connection.role == .master { send(.targets(after), to: id) }
    }

    @discardableResult
    func send(_ message: HubMessage, to id: ConnectionID) -> Bool {
        guard let connection = connections[id] else { return false }
        let sent = connection.outbox.send(message.jsonText())
        if !sent {
            logger.warning("hub: outbox full, message dropped", metadata: ["client": "\(connection.client)", "type": "\(message.type)"])
        }
        return sent
    }

    func unixNow() -> Int { Int(now().timeIntervalSince1970) }
}
