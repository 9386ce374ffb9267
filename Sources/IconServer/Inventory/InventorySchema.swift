import Foundation
import GRDB
import IconProtocol

/// The inventory's tables, their migrations, and the SQL that reads and writes them.
enum InventorySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: machines and audit") { db in
            try db.create(table: "machines") { table in
                table.primaryKey("hostname", .text)
                table.column("first_seen", .integer).notNull()
                table.column("last_report", .integer)
                table.column("last_status", .text)
                table.column("image_type", .text)
                table.column("running_timestamp", .integer)
                table.column("running_volume_id", .text)
                table.column("next_timestamp", .integer)
                table.column("next_volume_id", .text)
                table.column("client", .text)
                table.column("connected", .boolean).notNull().defaults(to: false)
                table.column("last_report_json", .text)
            }
            try db.create(index: "machines_by_last_report", on: "machines", columns: ["last_report"])
            try db.create(table: "audit") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .integer).notNull()
                table.column("operator", .text).notNull()
                table.column("target", .text).notNull()
                table.column("command_json", .text).notNull()
                table.column("command_id", .text)
                table.column("delivered", .boolean).notNull()
                table.column("reason", .text).notNull()
            }
        }
        return migrator
    }

    /// - Parameter status: the newest non-empty status, or `nil` to keep the stored one.
    static func upsertReport(
        hostname: String, data: ReportData, status: String?, received: Int, client: String, in db: Database
    ) throws {
        let json = String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO machines (hostname, first_seen, last_report, last_status, image_type, running_timestamp,
                    running_volume_id, next_timestamp, next_volume_id, client, connected, last_report_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                ON CONFLICT(hostname) DO UPDATE SET
                    last_report = excluded.last_report,
                    last_status = COALESCE(excluded.last_status, machines.last_status),
                    image_type = excluded.image_type,
                    running_timestamp = excluded.running_timestamp,
                    running_volume_id = excluded.running_volume_id,
                    next_timestamp = excluded.next_timestamp,
                    next_volume_id = excluded.next_volume_id,
                    client = excluded.client,
                    connected = 1,
                    last_report_json = excluded.last_report_json
                """,
            arguments: [
                hostname, received, received, status, data.imageType, data.timestamp, data.volumeID,
                data.nextTimestamp, data.nextVolumeID, client, json,
            ])
    }

    static func setConnected(hostname: String, connected: Bool, at time: Int, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO machines (hostname, first_seen, connected) VALUES (?, ?, ?)
                ON CONFLICT(hostname) DO UPDATE SET connected = excluded.connected
                """,
            arguments: [hostname, time, connected])
    }

    static func insertAudit(_ entry: AuditEntry, in db: Database) throws {
        let json = String(decoding: try JSONEncoder().encode(entry.command), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO audit (time, operator, target, command_json, command_id, delivered, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [entry.time, entry.operator, entry.target, json, entry.commandID, entry.delivered, entry.reason])
    }

    static func machine(from row: Row) -> MachineRecord {
        let json: String? = row["last_report_json"]
        return MachineRecord(
            hostname: row["hostname"], firstSeen: row["first_seen"], lastReport: row["last_report"],
            lastStatus: row["last_status"], imageType: row["image_type"], runningTimestamp: row["running_timestamp"],
            runningVolumeID: row["running_volume_id"], nextTimestamp: row["next_timestamp"],
            nextVolumeID: row["next_volume_id"], client: row["client"], connected: row["connected"],
            report: json.flatMap { try? JSONDecoder().decode(ReportData.self, from: Data($0.utf8)) })
    }

    static func audit(from row: Row) -> AuditEntry {
        let json: String = row["command_json"]
        let command = (try? JSONDecoder().decode(CommandData.self, from: Data(json.utf8))) ?? CommandData(command: "?")
        return AuditEntry(
            id: row["id"], time: row["time"], operator: row["operator"], target: row["target"], command: command,
            commandID: row["command_id"], delivered: row["delivered"], reason: row["reason"])
    }
}
