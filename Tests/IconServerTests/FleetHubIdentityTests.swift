import Foundation
import IconPKI
import IconProtocol
@testable import IconServer
import IconTestSupport
import Logging
import Testing
import X509

/// A machine is its certificate: the hub takes reports only under its names, gives one
/// connection a name, and bounds what a lying or flooding machine can make it keep.
@Suite struct FleetHubIdentityTests {
    static func makeHub(limits: FleetHub.Limits = .init(), claims: [String: Set<String>] = [:]) -> (FleetHub, TestLog) {
        let log = TestLog(level: .info)
        let hub = FleetHub(
            imageTypes: ["demo"], logger: log.logger(), limits: limits, claims: claims,
            now: { Date(timeIntervalSince1970: 1_700_000_123) }, makeID: { "fixed-id" })
        return (hub, log)
    }

    static func report(_ hostname: String?, status: String? = nil) -> HubMessage {
        .report(Report(data: ReportData(hostname: hostname, status: status)))
    }

    static let reboot = CommandData(command: "reboot", timestamp: 1)

    /// The probe: a certificate that names no host reported as robot-18 beside the real one and
    /// both heard the operator's reboot. Now the impostor is refused and only robot-18 hears it.
    @Test func aCertificateReportsOnlyAsItselfAndCommandsReachOnlyIt() async {
        let (hub, _) = Self.makeHub()
        let robot = FakeOutbox()
        let impostor = FakeOutbox()
        let operatorBox = FakeOutbox()
        let robotID = await hub.connect(role: .slave, client: "CN=robot-18", permission: .only(["robot-18"]), outbox: robot.outbox)
        let impostorID = await hub.connect(role: .slave, client: "CN=robot-7", permission: .only(["robot-7"]), outbox: impostor.outbox)
        let op = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        #expect(await hub.receive(Self.report("robot-18"), from: robotID) == .reported(operators: 1))
        #expect(
            await hub.receive(Self.report("robot-18"), from: impostorID)
                == .refused("report as 'robot-18' refused: the certificate names robot-7"))
        robot.clear()
        impostor.clear()
        #expect(await hub.receive(.command(Command(target: "robot-18", data: Self.reboot)), from: op) == .commanded(delivered: true))
        #expect(robot.messages.count == 1)
        #expect(impostor.messages.isEmpty)
    }

    @Test func permissionsComeFromTheCertificate() throws {
        let directory = try TemporaryDirectory(prefix: "icon-identity")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.path)
        // DNS names win over the CN.
        #expect(ReportPermission.forMachine(pki.device.certificate, isOperator: false, anyHostname: false) == .only(["device-1"]))
        // What icon certserver issued before: a CN and no DNS name.
        let cnOnly = try pki.issueLeaf(name: "a1b2c3", file: "cn-only", usages: [.clientAuth])
        #expect(ReportPermission.forMachine(cnOnly.certificate, isOperator: false, anyHostname: false) == .only(["a1b2c3"]))
        // A CN that is no host name and no DNS name: no report at all.
        let person = try pki.issueLeaf(name: "Alice Operator", file: "person", usages: [.clientAuth])
        #expect(ReportPermission.forMachine(person.certificate, isOperator: false, anyHostname: false) == .none(reason: CloseReason.noIdentity))
        #expect(ReportPermission.forMachine(person.certificate, isOperator: false, anyHostname: true) == .any(own: []))
        // An operator never reports, whatever the flag.
        for any in [false, true] {
            #expect(
                ReportPermission.forMachine(pki.device.certificate, isOperator: true, anyHostname: any)
                    == .none(reason: CloseReason.operatorMayNotReport))
        }
        #expect(ReportPermission.forMachine(nil, isOperator: false, anyHostname: true) == .none(reason: CloseReason.noCertificate))
    }

    @Test func hostnamesMustBeRFC1123() async {
        let (hub, _) = Self.makeHub()
        let label = String(repeating: "a", count: 63)
        let longest = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(longest.utf8.count == 253)
        for good in ["robot-17", "ROBOT-17", "0abc", "a.b.c", longest] {
            #expect(CertificateIdentity.isHostname(good), "\(good)")
        }
        let sixtyKB = String(repeating: "x", count: 60_000)
        for bad in ["", "-a", "a-", "a..b", "a.", "a_b", "a b", "ré", longest + "c", String(repeating: "a", count: 64), sixtyKB] {
            #expect(!CertificateIdentity.isHostname(bad), "\(bad.prefix(80))")
        }
        let machine = FakeOutbox()
        let id = await hub.connect(role: .slave, client: "CN=m", outbox: machine.outbox)
        guard case .refused(let reason) = await hub.receive(Self.report(sixtyKB), from: id) else {
            Issue.record("a 60 KB hostname was not refused")
            return
        }
        #expect(reason == "report as '\(String(repeating: "x", count: 33))...' refused: not an RFC 1123 hostname (labels of letters, digits, hyphens)")
        #expect(reason.utf8.count <= CloseReason.maximumBytes)
        #expect(await hub.targets == [])
    }

    @Test func theNewerConnectionKeepsTheNameAndTheOlderIsClosed() async {
        let (hub, log) = Self.makeHub()
        let older = FakeOutbox()
        let newer = FakeOutbox()
        let operatorBox = FakeOutbox()
        let op = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        let olderID = await hub.connect(role: .slave, client: "CN=robot-18", permission: .only(["robot-18"]), outbox: older.outbox)
        let newerID = await hub.connect(role: .slave, client: "CN=robot-18", permission: .only(["robot-18"]), outbox: newer.outbox)
        await hub.receive(Self.report("robot-18"), from: olderID)
        operatorBox.clear()
        #expect(await hub.receive(Self.report("robot-18"), from: newerID) == .reported(operators: 1))
        #expect(older.closes == ["a newer connection reports as 'robot-18'; this one is closed"])
        #expect(newer.closes.isEmpty)
        // The name never left: no new targets list, only the report.
        #expect(operatorBox.messages.count == 1)
        // The replaced connection's last words are dropped, not taken.
        guard case .dropped = await hub.receive(Self.report("robot-18"), from: olderID) else {
            Issue.record("the replaced connection still reports")
            return
        }
        older.clear()
        newer.clear()
        #expect(await hub.receive(.command(Command(target: "robot-18", data: Self.reboot)), from: op) == .commanded(delivered: true))
        #expect(older.messages.isEmpty)
        #expect(newer.messages.count == 1)
        // The older one leaving does not take the name from the newer.
        await hub.disconnect(olderID)
        #expect(await hub.targets == ["robot-18"])
        await hub.disconnect(newerID)
        #expect(await hub.targets == [])
        #expect(log.messages.contains { $0.contains("closing connection: a newer connection reports as 'robot-18'") })
    }

    @Test func anyHostnameIsBoundedPerCertificateAndConnection() async {
        let (hub, log) = Self.makeHub(limits: .init(hostnamesPerCertificate: 3, hostnamesPerConnection: 2))
        var ids: [FleetHub.ConnectionID] = []
        for _ in 0..<3 {
            ids.append(await hub.connect(role: .slave, client: "CN=shared", permission: .any(own: ["own-1"]), outbox: FakeOutbox().outbox))
        }
        #expect(await hub.receive(Self.report("a1"), from: ids[0]) == .reported(operators: 0))
        #expect(await hub.receive(Self.report("a2"), from: ids[0]) == .reported(operators: 0))
        #expect(
            await hub.receive(Self.report("a3"), from: ids[0])
                == .refused("report as 'a3' refused: this connection already reported under 2 hostnames"))
        #expect(await hub.receive(Self.report("a3"), from: ids[1]) == .reported(operators: 0))
        #expect(
            await hub.receive(Self.report("a4"), from: ids[1])
                == .refused("report as 'a4' refused: this certificate already reported under 3 other hostnames"))
        // A name claimed before stays usable, and the certificate's own name is no claim.
        #expect(await hub.receive(Self.report("a1"), from: ids[2]) == .reported(operators: 0))
        #expect(await hub.receive(Self.report("own-1"), from: ids[2]) == .reported(operators: 0))
        #expect(log.messages.contains { $0.contains("this certificate already reported under 3 other hostnames") })
        // Claims known from the inventory count from the start.
        let (restarted, _) = Self.makeHub(limits: .init(hostnamesPerCertificate: 3), claims: ["CN=shared": ["a1", "a2", "a3"]])
        let again = await restarted.connect(role: .slave, client: "CN=shared", permission: .any(own: []), outbox: FakeOutbox().outbox)
        guard case .refused = await restarted.receive(Self.report("a5"), from: again) else {
            Issue.record("the restarted hub forgot the certificate's claims")
            return
        }
    }

    @Test func aClaimNeverDisplacesTheCertificateThatNamesTheHost() async {
        let (hub, _) = Self.makeHub()
        let robot = FakeOutbox()
        let claimer = FakeOutbox()
        let robotID = await hub.connect(role: .slave, client: "CN=robot-18", permission: .only(["robot-18"]), outbox: robot.outbox)
        let claimerID = await hub.connect(role: .slave, client: "CN=fleet", permission: .any(own: []), outbox: claimer.outbox)
        await hub.receive(Self.report("robot-18"), from: robotID)
        #expect(
            await hub.receive(Self.report("robot-18"), from: claimerID)
                == .refused("report as 'robot-18' refused: it is connected with a certificate that names it"))
        #expect(robot.closes.isEmpty)
        // The other way round, the owner takes its name back from a claimer.
        let (other, _) = Self.makeHub()
        let claimed = FakeOutbox()
        let first = await other.connect(role: .slave, client: "CN=fleet", permission: .any(own: []), outbox: claimed.outbox)
        let owner = await other.connect(role: .slave, client: "CN=robot-18", permission: .only(["robot-18"]), outbox: FakeOutbox().outbox)
        await other.receive(Self.report("robot-18"), from: first)
        #expect(await other.receive(Self.report("robot-18"), from: owner) == .reported(operators: 0))
        #expect(claimed.closes.count == 1)
    }

    @Test func reportsAreSizeCapped() async {
        let (hub, _) = Self.makeHub()
        let operatorBox = FakeOutbox()
        _ = await hub.connect(role: .master, client: "CN=op", outbox: operatorBox.outbox)
        let id = await hub.connect(role: .slave, client: "CN=m", outbox: FakeOutbox().outbox)
        let status = String(repeating: "é", count: 1000)
        #expect(await hub.receive(Self.report("m", status: status), from: id, frameBytes: 2100) == .reported(operators: 1))
        guard case .report(let forwarded) = operatorBox.messages.last else {
            Issue.record("no report forwarded")
            return
        }
        #expect(forwarded.data.status == String(repeating: "é", count: 512))
        #expect(
            await hub.receive(Self.report("m"), from: id, frameBytes: 16 * 1024 + 1)
                == .refused("report of 16385 bytes refused: at most 16384 are accepted"))
    }

    @Test func everyCloseReasonFitsACloseFrame() {
        let long = String(repeating: "é", count: 300) + "\u{7}"
        for reason in [
            CloseReason.invalidHostname(long), CloseReason.tooManyHostnamesForCertificate(long, limit: 1_000_000),
            CloseReason.tooManyHostnamesForConnection(long, limit: 1_000_000), CloseReason.hostnameOwned(long),
            CloseReason.replaced(long), CloseReason.reportTooLarge(Int.max, limit: Int.max), CloseReason.noIdentity,
            CloseReason.operatorMayNotReport, CloseReason.noCertificate,
        ] {
            #expect(reason.utf8.count <= CloseReason.maximumBytes, "\(reason)")
            #expect(!reason.contains("\u{7}"))
        }
    }
}
