import Foundation
import GRDB
import IconCore
import IconProtocol
public import Logging
public import ServiceLifecycle
import Synchronization

/// The device inventory and the operator audit log, in SQLite (`<state-dir>/inventory.sqlite3`),
/// kept across restarts.
///
/// The hub must never wait for the disk: `record(_:)` only appends to an in-memory queue, and
/// `run()` (a `Service`) writes whatever has queued up in one transaction per batch, folding
/// several reports of one machine into its newest. Reads go straight to the database.
public final class FleetInventory: Service, Sendable {
    /// File name inside the state directory.
    public static let fileName = "inventory.sqlite3"
    /// Events held while the writer is busy before new ones are dropped (and counted in the log).
    public static let maxPendingEvents = 200_000

    let database: DatabaseQueue
    let logger: Logger
    let pending = Mutex(Pending())
    let wakeups: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation

    struct Pending {
        var events: [InventoryEvent] = []
        var dropped = 0
    }

    /// Opens (creating if needed) the database in `stateDirectory` and migrates its schema.
    /// Every machine starts as not connected: connections do not survive a restart.
    ///
    /// - Throws: `IconError(.io)` naming `--state-dir` when the directory or database cannot be used.
    public init(stateDirectory: String, logger: Logger) throws {
        let path = stateDirectory + "/" + Self.fileName
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            database = try DatabaseQueue(path: path)
            try InventorySchema.migrator.migrate(database)
            try database.write { db in try db.execute(sql: "UPDATE machines SET connected = 0") }
        } catch {
            throw IconError(.io, "--state-dir: cannot open the inventory \(path)", cause: error)
        }
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues an event for the writer; never blocks on the database.
    public func record(_ event: InventoryEvent) {
        let queued = pending.withLock { pending in
            guard pending.events.count < Self.maxPendingEvents else {
                pending.dropped += 1
                return false
            }
            pending.events.append(event)
            return true
        }
        if queued { wake.yield() }
    }

    /// Writes queued events until cancelled or shut down gracefully, then writes what is left.
    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakeups {
                do {
                    try await writeBatch(takePending())
                } catch {
                    logger.error("inventory: write failed: \(error)")
                }
            }
        } onGracefulShutdown: { [wake] in
            wake.finish()
        }
        // Cancellation also ends the loop above; the last batch is written synchronously.
        do {
            try writeBatchNow(takePending())
        } catch {
            logger.error("inventory: final write failed: \(error)")
        }
    }

    func takePending() -> [InventoryEvent] {
        let (events, dropped) = pending.withLock { pending in
            defer { pending = Pending() }
            return (pending.events, pending.dropped)
        }
        if dropped > 0 { logger.warning("inventory: writer fell behind, \(dropped) events dropped") }
        return events
    }

    func writeBatch(_ events: [InventoryEvent]) async throws {
        guard !events.isEmpty else { return }
        try await database.write { db in try Self.apply(events, in: db) }
    }

    /// Writes without suspending: used once cancellation has begun, when async access would refuse.
    func writeBatchNow(_ events: [InventoryEvent]) throws {
        guard !events.isEmpty else { return }
        try database.write { db in try Self.apply(events, in: db) }
    }

    /// Applies events in order, keeping only the newest report of each machine in the batch.
    static func apply(_ events: [InventoryEvent], in db: Database) throws {
        var newestReport: [String: Int] = [:]
        // A folded report must not take a status with it: the newest one given in the batch is kept.
        var newestStatus: [String: String] = [:]
        for (index, event) in events.enumerated() {
            guard case .report(let hostname, let data, _, _) = event else { continue }
            newestReport[hostname] = index
            if let status = data.status, !status.isEmpty { newestStatus[hostname] = status }
        }
        for (index, event) in events.enumerated() {
            switch event {
            case .report(let hostname, let data, let received, let client):
                guard newestReport[hostname] == index else { continue }
                try InventorySchema.upsertReport(
                    hostname: hostname, data: data, status: newestStatus[hostname], received: received, client: client,
                    in: db)
            case .connection(let hostname, let connected, let at):
                try InventorySchema.setConnected(hostname: hostname, connected: connected, at: at, in: db)
            case .command(let entry):
                try InventorySchema.insertAudit(entry, in: db)
            }
        }
    }

    /// Every machine, the newest report first (machines that never reported last).
    public func machines() async throws -> [MachineRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM machines ORDER BY last_report IS NULL, last_report DESC, hostname")
                .map(InventorySchema.machine(from:))
        }
    }

    /// One machine by hostname, or `nil`.
    public func machine(hostname: String) async throws -> MachineRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM machines WHERE hostname = ?", arguments: [hostname])
                .map(InventorySchema.machine(from:))
        }
    }

    /// The host names of the stored machines by the certificate subject that last reported
    /// under each, for the hub's per-certificate limit (``FleetHub/Limits/hostnamesPerCertificate``).
    ///
    /// - Throws: `IconError(.io)` naming the inventory when it cannot be read.
    public func hostnamesByClient() throws -> [String: Set<String>] {
        do {
            return try database.read { db in
                var names: [String: Set<String>] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT hostname, client FROM machines WHERE client IS NOT NULL") {
                    let client: String = row["client"]
                    names[client, default: []].insert(row["hostname"])
                }
                return names
            }
        } catch {
            throw IconError(.io, "--state-dir: cannot read the inventory \(database.path)", cause: error)
        }
    }

    /// The newest `limit` audit entries, newest first.
    public func audit(limit: Int) async throws -> [AuditEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [max(0, limit)])
                .map(InventorySchema.audit(from:))
        }
    }
}
