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
        /// The connection must be closed (WebSocket close code 1008) with this one-line reason
        /// of at most ``CloseReason/maximumBytes`` bytes, already logged.
        case refused(String)
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
    /// Where reports, machine arrivals and departures, and operator commands go for the inventory.
    let record: @Sendable (InventoryEvent) -> Void
    var connections: [ConnectionID: Connection] = [:]
    /// Indexes so a report or command costs O(operators), not O(connections), with thousands of machines.
    var masters: Set<ConnectionID> = []
    var machinesByHostname: [String: Set<ConnectionID>] = [:]
    var nextID: ConnectionID = 1

    /// - Parameters:
    ///   - imageTypes: sent to every connection on connect.
    ///   - now: the clock for `received` fields.
    ///   - makeID: the `id` given to forwarded reports and commands.
    ///   - record: receives inventory events; it must return at once (e.g. `FleetInventory.record`).
    public init(
        imageTypes: [String], logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        makeID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        record: @escaping @Sendable (InventoryEvent) -> Void = { _ in }
    ) {
        self.record = record
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
        let message = HubMessage.newManifest(imageType: imageType)
        let text = message.jsonText()
        for id in connections.keys { send(text: text, type: message.type, to: id) }
    }

    /// Host names of the connected machines that have reported, sorted.
    public var targets: [String] { machinesByHostname.keys.sorted() }

    /// How many connections of each role are open.
    public func count(_ role: Role) -> Int { connections.values.count { $0.role == role } }

    func handleReport(_ data: ReportData, from id: ConnectionID, connection: Connection) -> Outcome {
        guard let hostname = data.hostname, !hostname.isEmpty else {
            return refuse(CloseReason.reportWithoutHostname, connection)
        }
        if let allowed = connection.allowedHostnames, !allowed.contains(hostname) {
            return refuse(CloseReason.hostnameRefused(hostname, allowed: allowed.sorted()), connection)
        }
        if connection.hostname != hostname {
            connections[id]?.hostname = hostname
            setHostname(of: id, from: connection.hostname, to: hostname)
        }
        let received = unixNow()
        record(.report(hostname: hostname, data: data, received: received, client: connection.client))
        // Nobody to forward to: skip the id and the JSON encoding. With 10,000 machines reporting
        // every 5 s this per-report work alone kept the hub busy (issue 3's load benchmark).
        guard !masters.isEmpty else { return .reported(operators: 0) }
        let forwarded = HubMessage.report(
            Report(data: data, id: makeID(), received: received, client: connection.client))
        // Encode once for all operators.
        let text = forwarded.jsonText()
        for id in masters { send(text: text, type: forwarded.type, to: id) }
        return .reported(operators: masters.count)
    }

    func handleCommand(_ command: Command, from connection: Connection) -> Outcome {
        let received = unixNow()
        let commandID = makeID()
        let forwarded = HubMessage.command(
            Command(target: command.target, data: command.data, id: commandID, received: received, client: connection.client))
        let machines = machinesByHostname[command.target] ?? []
        var deliveredTo = 0
        for id in machines where send(forwarded, to: id) { deliveredTo += 1 }
        let delivered = deliveredTo > 0
        let reason =
            if machines.isEmpty { "no machine named '\(command.target)' is connected" }
            else if delivered { "delivered to \(deliveredTo) of \(machines.count) connection(s)" }
            else { "the outbox of every connection of '\(command.target)' was full" }
        record(
            .command(
                AuditEntry(
                    time: received, operator: connection.client, target: command.target, command: command.data,
                    commandID: commandID, delivered: delivered, reason: reason)))
        logger.info(
            "hub: command \(command.data.command) for \(command.target) \(delivered ? "delivered" : "not delivered")",
            metadata: ["client": "\(connection.client)"])
        return .commanded(delivered: delivered)
    }

    /// A machine that reports under a name it may not use is told so, not ignored: the
    /// connection closes with `reason`, logged once here.
    func refuse(_ reason: String, _ connection: Connection) -> Outcome {
        logger.warning("hub: closing connection: \(reason)", metadata: ["client": "\(connection.client)"])
        return .refused(reason)
    }

    func drop(_ reason: String, _ connection: Connection) -> Outcome {
        logger.warning("hub: dropped message: \(reason)", metadata: ["client": "\(connection.client)"])
        return .dropped(reason)
    }

    /// Moves machine `id` between host names and tells operators when the set of targets changed.
    func setHostname(of id: ConnectionID, from old: String?, to new: String?) {
        var changed = false
        if let old, var ids = machinesByHostname[old] {
            ids.remove(id)
            machinesByHostname[old] = ids.isEmpty ? nil : ids
            if ids.isEmpty {
                changed = true
                record(.connection(hostname: old, connected: false, at: unixNow()))
            }
        }
        if let new {
            if machinesByHostname[new] == nil {
                changed = true
                record(.connection(hostname: new, connected: true, at: unixNow()))
            }
            machinesByHostname[new, default: []].insert(id)
        }
        // Sorting and encoding every host name per change costs O(n) each; skip it when no
        // operator listens (a 10,000-machine fleet connecting would otherwise queue seconds of work).
        guard changed, !masters.isEmpty else { return }
        let message = HubMessage.targets(targets)
        let text = message.jsonText()
        for id in masters { send(text: text, type: message.type, to: id) }
    }

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
