import Foundation
import IconProtocol
@testable import IconServer
import Synchronization
import IconTestSupport
import Logging
import Testing

/// Collects what the hub sends to one fake connection.
final class FakeOutbox: Sendable {
    private let frames = Mutex<[HubMessage]>([])
    private let closeReasons = Mutex<[String]>([])
    let accept: Bool

    init(accept: Bool = true) { self.accept = accept }

    var outbox: FleetHub.Outbox {
        FleetHub.Outbox(
            send: { text in
                guard self.accept else { return false }
                if let message = try? HubMessage.decode(text) { self.frames.withLock { $0.append(message) } }
                return true
            },
            close: { reason in self.closeReasons.withLock { $0.append(reason) } })
    }

    var messages: [HubMessage] { frames.withLock { $0 } }
    /// The reasons the hub closed this connection with.
    var closes: [String] { closeReasons.withLock { $0 } }
    func clear() { frames.withLock { $0.removeAll() } }
}

@Suite struct FleetHubTests {
    static func makeHub() -> FleetHub {
        FleetHub(
            imageTypes: ["demo"], logger: TestLog(level: .info).logger(), now: { Date(timeIntervalSince1970: 1_700_000_123) },
            makeID: { "fixed-id" })
    }

    @Test func connectSendsImageTypesAndTargets() async {
        let hub = Self.makeHub()
        let machine = FakeOutbox()
        let operatorBox = FakeOutbox()
        _ = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        _ = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        #expect(machine.messages == [.imageTypes(["demo"])])
        #expect(operatorBox.messages == [.imageTypes(["demo"]), .targets([])])
    }

    /// Without operators the hub skips forwarding work, but machines are still registered:
    /// an operator connecting later gets them all, and commands still reach them.
    @Test func reportsWithoutOperatorsStillRegisterTargets() async {
        let hub = Self.makeHub()
        let machine = FakeOutbox()
        let id = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        let data = ReportData(hostname: "m1", uptimeSeconds: 3)
        #expect(await hub.receive(.report(Report(data: data)), from: id) == .reported(operators: 0))
        #expect(await hub.targets == ["m1"])
        let operatorBox = FakeOutbox()
        let operatorID = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        #expect(operatorBox.messages == [.imageTypes(["demo"]), .targets(["m1"])])
        let command = Command(target: "m1", data: CommandData(command: "reboot", timestamp: 5))
        #expect(await hub.receive(.command(command), from: operatorID) == .commanded(delivered: true))
    }

    @Test func reportsReachOperatorsAndRegisterTargets() async {
        let hub = Self.makeHub()
        let operatorBox = FakeOutbox()
        let machine = FakeOutbox()
        _ = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        let id = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        operatorBox.clear()
        let data = ReportData(hostname: "m1", uptimeSeconds: 3)
        #expect(await hub.receive(.report(Report(data: data)), from: id) == .reported(operators: 1))
        #expect(
            operatorBox.messages == [
                .targets(["m1"]),
                .report(Report(data: data, id: "fixed-id", received: 1_700_000_123, client: "CN=m")),
            ])
        // A second report under the same name does not resend targets.
        operatorBox.clear()
        await hub.receive(.report(Report(data: data)), from: id)
        #expect(operatorBox.messages.count == 1)
        // Machines never see reports.
        #expect(machine.messages == [.imageTypes(["demo"])])
        // Leaving removes the target.
        operatorBox.clear()
        await hub.disconnect(id)
        #expect(operatorBox.messages == [.targets([])])
        #expect(await hub.targets == [])
    }

    @Test func commandsGoToTheTargetOnly() async {
        let hub = Self.makeHub()
        let a = FakeOutbox()
        let b = FakeOutbox()
        let operatorBox = FakeOutbox()
        let idA = await hub.connect(role: .slave, client: "CN=a", outbox: a.outbox)
        let idB = await hub.connect(role: .slave, client: "CN=b", outbox: b.outbox)
        let op = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        await hub.receive(.report(Report(data: ReportData(hostname: "a"))), from: idA)
        await hub.receive(.report(Report(data: ReportData(hostname: "b"))), from: idB)
        a.clear()
        b.clear()
        let command = Command(target: "b", data: CommandData(command: "reboot", timestamp: 42))
        #expect(await hub.receive(.command(command), from: op) == .commanded(delivered: true))
        #expect(a.messages.isEmpty)
        #expect(
            b.messages == [
                .command(
                    Command(
                        target: "b", data: CommandData(command: "reboot", timestamp: 42), id: "fixed-id",
                        received: 1_700_000_123, client: "CN=op"))
            ])
        #expect(await hub.receive(.command(Command(target: "zzz", data: CommandData(command: "reboot"))), from: op) == .commanded(delivered: false))
    }

    @Test func rolesAndHostnamesAreEnforced() async {
        let hub = Self.makeHub()
        let machine = FakeOutbox()
        let operatorBox = FakeOutbox()
        let id = await hub.connect(role: .slave, client: "CN=m", permission: .only(["device-1"]), outbox: machine.outbox)
        let op = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        // A machine may not command, an operator may not report.
        guard case .dropped = await hub.receive(.command(Command(target: "x", data: CommandData(command: "reboot"))), from: id) else {
            Issue.record("machine command not dropped")
            return
        }
        guard case .dropped = await hub.receive(.report(Report(data: ReportData(hostname: "op"))), from: op) else {
            Issue.record("operator report not dropped")
            return
        }
        // Reporting under a name the certificate does not carry, or under none, is refused (the
        // connection is closed with the reason); its own name works.
        #expect(
            await hub.receive(.report(Report(data: ReportData(hostname: "device-2"))), from: id)
                == .refused("report as 'device-2' refused: the certificate names device-1"))
        #expect(await hub.receive(.report(Report(data: ReportData())), from: id) == .refused(CloseReason.reportWithoutHostname))
        #expect(await hub.targets == [])
        #expect(await hub.receive(.report(Report(data: ReportData(hostname: "device-1"))), from: id) == .reported(operators: 1))
        #expect(await hub.targets == ["device-1"])
    }

    @Test func newManifestReachesEveryoneAndFullOutboxesDoNotBlock() async {
        let hub = Self.makeHub()
        let machine = FakeOutbox()
        let operatorBox = FakeOutbox()
        let stuck = FakeOutbox(accept: false)
        _ = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        _ = await hub.connect(role: .slave, client: "CN=stuck", outbox: stuck.outbox)
        _ = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        await hub.announceNewManifest(imageType: "demo")
        #expect(machine.messages.last == .newManifest(imageType: "demo"))
        #expect(operatorBox.messages.last == .newManifest(imageType: "demo"))
        #expect(await hub.count(.slave) == 2)
    }

    @Test func parsesInotifyRecords() {
        var bytes: [UInt8] = []
        func record(wd: Int32, name: String, padded: Int) {
            withUnsafeBytes(of: wd.littleEndian) { bytes += $0 }
            bytes += [0x80, 0, 0, 0, 0, 0, 0, 0]
            withUnsafeBytes(of: UInt32(padded).littleEndian) { bytes += $0 }
            bytes += Array(name.utf8) + [UInt8](repeating: 0, count: padded - name.utf8.count)
        }
        record(wd: 1, name: "manifest.json", padded: 16)
        record(wd: 2, name: "x.iso", padded: 16)
        let parsed = ManifestWatcher.parse(bytes[...])
        #expect(parsed.map(\.wd) == [1, 2])
        #expect(parsed.map(\.mask) == [0x80, 0x80])
        #expect(parsed.map(\.name) == ["manifest.json", "x.iso"])
        #expect(ManifestWatcher.parse(bytes[0..<20]).isEmpty)
    }
}
