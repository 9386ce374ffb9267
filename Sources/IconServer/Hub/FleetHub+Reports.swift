import Foundation
import IconPKI
import IconProtocol
import Logging

extension FleetHub {
    /// Checks a report against the connection's certificate and the limits, then records and
    /// forwards it. The newest connection reporting under a host name owns it: an older one is
    /// closed with a reason, and commands for the name go to the newest only.
    func handleReport(_ data: ReportData, frameBytes: Int, from id: ConnectionID, connection: Connection) -> Outcome {
        if connection.replaced { return drop("report from a replaced connection", connection) }
        if let refusal = refusal(of: data, frameBytes: frameBytes, from: id, connection: connection) {
            return refuse(refusal, connection)
        }
        guard let hostname = data.hostname else { return refuse(CloseReason.reportWithoutHostname, connection) }
        if !connection.permission.owns(hostname), case .any = connection.permission {
            claims[connection.client, default: []].insert(hostname)
        }
        connections[id]?.reported.insert(hostname)
        if connection.hostname != hostname {
            if let holder = machinesByHostname[hostname], holder != id { replace(holder, hostname: hostname) }
            connections[id]?.hostname = hostname
            setHostname(of: id, from: connection.hostname, to: hostname)
        }
        var data = data
        if let status = data.status, status.utf8.count > limits.statusBytes {
            data.status = CloseReason.clip(status, to: limits.statusBytes)
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

    /// Why the report may not be taken (the close reason), or `nil`.
    func refusal(of data: ReportData, frameBytes: Int, from id: ConnectionID, connection: Connection) -> String? {
        if frameBytes > limits.reportBytes { return CloseReason.reportTooLarge(frameBytes, limit: limits.reportBytes) }
        guard let hostname = data.hostname, !hostname.isEmpty else { return CloseReason.reportWithoutHostname }
        if case .none(let reason) = connection.permission { return reason }
        guard CertificateIdentity.isHostname(hostname) else { return CloseReason.invalidHostname(hostname) }
        if case .only(let names) = connection.permission, !names.contains(hostname) {
            return CloseReason.hostnameRefused(hostname, allowed: names.sorted())
        }
        if !connection.reported.contains(hostname), connection.reported.count >= limits.hostnamesPerConnection {
            return CloseReason.tooManyHostnamesForConnection(hostname, limit: limits.hostnamesPerConnection)
        }
        guard case .any = connection.permission, !connection.permission.owns(hostname) else { return nil }
        // A name merely claimed (any hostname allowed) never displaces a certificate that carries it.
        if let holder = machinesByHostname[hostname], holder != id, connections[holder]?.permission.owns(hostname) == true {
            return CloseReason.hostnameOwned(hostname)
        }
        let claimed = claims[connection.client] ?? []
        if !claimed.contains(hostname), claimed.count >= limits.hostnamesPerCertificate {
            return CloseReason.tooManyHostnamesForCertificate(hostname, limit: limits.hostnamesPerCertificate)
        }
        return nil
    }

    /// Closes the connection that reported under `hostname` before: a machine that reconnects
    /// (or a copy of its certificate) gets the name, and one connection only hears its commands.
    func replace(_ holder: ConnectionID, hostname: String) {
        guard let old = connections[holder] else { return }
        connections[holder]?.replaced = true
        connections[holder]?.hostname = nil
        let reason = CloseReason.replaced(hostname)
        logger.warning(
            "hub: closing connection: \(reason)", metadata: ["client": "\(old.client)", "connection": "\(holder)"])
        old.outbox.close(reason)
    }

    func handleCommand(_ command: Command, from connection: Connection) -> Outcome {
        let received = unixNow()
        let commandID = makeID()
        let forwarded = HubMessage.command(
            Command(target: command.target, data: command.data, id: commandID, received: received, client: connection.client))
        let machine = machinesByHostname[command.target]
        let delivered = machine.map { send(forwarded, to: $0) } ?? false
        let reason =
            if machine == nil { "no machine named '\(command.target)' is connected" }
            else if delivered { "delivered to its connection" }
            else { "the outbox of '\(command.target)' was full" }
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
    /// A name taken over from a replaced connection stays connected.
    func setHostname(of id: ConnectionID, from old: String?, to new: String?) {
        var changed = false
        if let old, machinesByHostname[old] == id {
            machinesByHostname[old] = nil
            changed = true
            record(.connection(hostname: old, connected: false, at: unixNow()))
        }
        if let new {
            if machinesByHostname[new] == nil {
                changed = true
                record(.connection(hostname: new, connected: true, at: unixNow()))
            }
            machinesByHostname[new] = id
        }
        // Sorting and encoding every host name per change costs O(n) each; skip it when no
        // operator listens (a 10,000-machine fleet connecting would otherwise queue seconds of work).
        guard changed, !masters.isEmpty else { return }
        let message = HubMessage.targets(targets)
        let text = message.jsonText()
        for id in masters { send(text: text, type: message.type, to: id) }
    }
}
