import Foundation
import Hummingbird
import IconCore

/// The read-only JSON API over the device inventory, for operators (same certificates as
/// `/ws/master`); without `--state-dir` every path answers 404.
///
/// - `GET /api/machines`: `{"machines":[M, ...]}`, the newest report first.
/// - `GET /api/machines/<hostname>`: `M`, or 404 for a machine never seen.
/// - `GET /api/audit?limit=N`: `{"entries":[A, ...]}`, the newest N commands first
///   (N from 1 to 10000, default 100).
///
/// A machine `M`: `hostname`; `first_seen` and `last_report` (Unix seconds); `last_status` (the
/// newest non-empty `status` it reported); `image_type`; `running_timestamp` and
/// `running_volume_id` (the image it runs, from its `/etc/iconograph.json`); `next_timestamp`
/// and `next_volume_id` (the image it boots next); `client` (subject of the certificate that
/// sent the newest report); `connected` (true while a connection reports under this name);
/// `report` (the newest report's `data`, every field as sent). Absent values are `null`.
///
/// An audit entry `A`: `id` (increasing); `time` (Unix seconds); `operator` (the operator's
/// certificate subject); `target` (hostname); `command` (the command's `data`, e.g.
/// `{"command":"reboot","timestamp":1700000000}`); `command_id` (the `id` the hub gave the
/// forwarded command); `delivered` (whether a connection of the target took it); `reason`
/// (why, in words, e.g. `no machine named 'x' is connected`).
struct InventoryAPIRoutes: Sendable {
    let inventory: FleetInventory?
    let operatorPolicy: OperatorPolicy

    struct Machines: Encodable { let machines: [MachineRecord] }
    struct Entries: Encodable { let entries: [AuditEntry] }

    func register(on router: Router<ServerRequestContext>) {
        router.get("/api/machines") { request, context in
            let inventory = try await authorize(request, context)
            return try Self.json(Machines(machines: try await inventory.machines()))
        }
        router.get("/api/machines/:hostname") { request, context in
            let inventory = try await authorize(request, context)
            let hostname = try context.parameters.require("hostname")
            guard let machine = try await inventory.machine(hostname: hostname) else {
                throw IconError(.notFound, "no machine named '\(hostname)' in the inventory")
            }
            return try Self.json(machine)
        }
        router.get("/api/audit") { request, context in
            let inventory = try await authorize(request, context)
            var limit = 100
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(text), (1...10_000).contains(value) else {
                    throw IconError(.invalidArgument, "/api/audit: limit '\(text)' is not between 1 and 10000")
                }
                limit = value
            }
            return try Self.json(Entries(entries: try await inventory.audit(limit: limit)))
        }
    }

    func authorize(_ request: Request, _ context: ServerRequestContext) async throws -> FleetInventory {
        try await operatorPolicy.requireOperator(request, context: context)
        guard let inventory else {
            throw IconError(.notFound, "\(request.uri.path): the server keeps no inventory (no --state-dir)")
        }
        return inventory
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store", .contentLength: String(data.count)],
            body: .init(byteBuffer: .init(bytes: data)))
    }
}
