import Foundation
import IconProtocol
import Testing

@Suite struct HubMessageTests {
    /// Parses `text` as a JSON object for comparisons that ignore key order.
    static func object(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    @Test func encodesTheOriginalForms() throws {
        let cases: [(HubMessage, String)] = [
            (.imageTypes(["demo", "kiosk"]), #"{"type":"image_types","data":{"image_types":["demo","kiosk"]}}"#),
            (.targets(["a", "b"]), #"{"type":"targets","data":{"targets":["a","b"]}}"#),
            (.newManifest(imageType: "demo"), #"{"type":"new_manifest","data":{"image_type":"demo"}}"#),
            (
                .command(Command(target: "host1", data: CommandData(command: "reboot", timestamp: 1_700_000_000))),
                #"{"type":"command","target":"host1","data":{"command":"reboot","timestamp":1700000000}}"#
            ),
            (
                .command(
                    Command(
                        target: "host1", data: CommandData(command: "reboot"), id: "u-1", received: 17, client: "CN=op")),
                #"{"type":"command","target":"host1","id":"u-1","received":17,"client":"CN=op","data":{"command":"reboot"}}"#
            ),
            (
                .report(
                    Report(
                        data: ReportData(hostname: "h", uptimeSeconds: 5, status: "ok", extra: ["build": .string("x")]),
                        id: "u-2", received: 99, client: "CN=device-1")),
                #"{"type":"report","id":"u-2","received":99,"client":"CN=device-1","data":{"hostname":"h","uptime_seconds":5,"status":"ok","build":"x"}}"#
            ),
        ]
        for (message, expected) in cases {
            #expect(try Self.object(message.jsonText()) == Self.object(expected), "\(message.type)")
            #expect(try HubMessage.decode(expected) == message, "\(message.type)")
        }
    }

    @Test func decodesAFullDeviceReportKeepingUnknownFields() throws {
        let text = """
            {"type":"report","data":{"hostname":"kiosk-7","uptime_seconds":120,"next_timestamp":1700000100,
            "next_volume_id":"kiosk-1700000100","status":"Fetching","image_type":"kiosk","timestamp":1700000000,
            "volume_id":"kiosk-1700000000","cpu":{"load":0.5},"tags":["a",1,null,true]}}
            """
        guard case .report(let report) = try HubMessage.decode(text) else {
            Issue.record("not a report")
            return
        }
        let data = report.data
        #expect(data.hostname == "kiosk-7")
        #expect(data.uptimeSeconds == 120)
        #expect(data.nextTimestamp == 1_700_000_100)
        #expect(data.nextVolumeID == "kiosk-1700000100")
        #expect(data.status == "Fetching")
        #expect(data.imageType == "kiosk")
        #expect(data.timestamp == 1_700_000_000)
        #expect(data.volumeID == "kiosk-1700000000")
        #expect(data.extra["cpu"] == .object(["load": .double(0.5)]))
        #expect(data.extra["tags"] == .array([.string("a"), .int(1), .null, .bool(true)]))
        #expect(report.id == nil && report.received == nil && report.client == nil)
        // Round trip keeps every field.
        #expect(try HubMessage.decode(HubMessage.report(report).jsonText()) == .report(report))
    }

    @Test func rejectsBadFrames() {
        #expect(throws: HubMessageError.notJSON) { try HubMessage.decode("hello") }
        #expect(throws: HubMessageError.notJSON) { try HubMessage.decode("[1,2]") }
        #expect(throws: HubMessageError.unknownType("shutdown")) { try HubMessage.decode(#"{"type":"shutdown","data":{}}"#) }
        #expect(throws: HubMessageError.self) { try HubMessage.decode(#"{"data":{}}"#) }
        #expect(throws: HubMessageError.self) { try HubMessage.decode(#"{"type":"command","data":{"command":"reboot"}}"#) }
        #expect(throws: HubMessageError.self) { try HubMessage.decode(#"{"type":"report","data":["not","an","object"]}"#) }
    }
}
