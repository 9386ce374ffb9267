import Foundation
import IconProtocol
@testable import IconServer
import Synchronization
import IconTestSupport
import Logging
import Testing

/// What the hub hands to the inventory.
@Suite struct FleetHubInventoryEventTests {
    final class Events: Sendable {
        let list = Mutex<[InventoryEvent]>([])
        var all: [InventoryEvent] { list.withLock { $0 } }
    }

    @Test func reportsArrivalsDeparturesAndCommandsAreRecorded() async {
        let events = Events()
        let hub = FleetHub(
            imageTypes: ["demo"], logger: TestLog(level: .info).logger(), now: { Date(timeIntervalSince1970: 500) },
            makeID: { "id-1" }, record: { event in events.list.withLock { $0.append(event) } })
        let machine = FakeOutbox()
        let full = FakeOutbox(accept: false)
        let operatorBox = FakeOutbox()
        let m = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        let f = await hub.connect(role: .slave, client: "CN=f", outbox: full.outbox)
        let op = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        let data = ReportData(hostname: "m", status: "ok")
        await hub.receive(.report(Report(data: data)), from: m)
        // A second report of a known machine is no new arrival.
        await hub.receive(.report(Report(data: data)), from: m)
        await hub.receive(.report(Report(data: ReportData(hostname: "f"))), from: f)
        let reboot = CommandData(command: "reboot", timestamp: 7)
        await hub.receive(.command(Command(target: "m", data: reboot)), from: op)
        await hub.receive(.command(Command(target: "f", data: reboot)), from: op)
        await hub.receive(.command(Command(target: "x", data: reboot)), from: op)
        await hub.disconnect(m)

        let all = events.all
        #expect(all.count == 9)
        #expect(all[0] == .connection(hostname: "m", connected: true, at: 500))
        #expect(all[1] == .report(hostname: "m", data: data, received: 500, client: "CN=m"))
        #expect(all[2] == .report(hostname: "m", data: data, received: 500, client: "CN=m"))
        #expect(all[3] == .connection(hostname: "f", connected: true, at: 500))
        guard case .command(let delivered) = all[5], case .command(let full) = all[6], case .command(let nobody) = all[7]
        else {
            Issue.record("expected three commands, got \(all)")
            return
        }
        #expect(delivered.delivered && delivered.target == "m" && delivered.operator == "CN=op")
        #expect(delivered.command == reboot && delivered.commandID == "id-1" && delivered.time == 500)
        #expect(!full.delivered && full.reason.contains("full"))
        #expect(!nobody.delivered && nobody.reason == "no machine named 'x' is connected")
        #expect(all[8] == .connection(hostname: "m", connected: false, at: 500))
    }
}
