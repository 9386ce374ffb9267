import Foundation
import IconProtocol
import Testing

/// Reports from the original clients are not always typed the way ours are.
@Suite struct ReportDataTests {
    static func decode(_ json: String) throws -> ReportData {
        try JSONDecoder().decode(ReportData.self, from: Data(json.utf8))
    }

    @Test func bootSafetyFieldsAreTypedAndTolerant() throws {
        let data = try Self.decode(
            #"{"good_images":[1,2],"bad_images":[3],"last_rollback":{"failed":3,"running":2,"reason":"r","at":9}}"#)
        #expect(data.goodImages == [1, 2])
        #expect(data.badImages == [3])
        #expect(data.lastRollback == RollbackReport(failed: 3, running: 2, reason: "r", at: 9))
        #expect(data.extra.isEmpty)
        #expect(try JSONDecoder().decode(ReportData.self, from: JSONEncoder().encode(data)) == data)
        // Odd shapes are kept as sent instead of failing the report.
        let odd = try Self.decode(#"{"good_images":[1,"x"],"bad_images":"3","last_rollback":{"reason":"no failed"}}"#)
        #expect(odd.goodImages == nil && odd.badImages == nil && odd.lastRollback == nil)
        #expect(odd.extra["good_images"] == .array([.int(1), .string("x")]))
        #expect(odd.extra["bad_images"] == .string("3"))
        #expect(odd.extra["last_rollback"] == .object(["reason": .string("no failed")]))
    }

    @Test func floatUptimeIsTruncated() throws {
        #expect(try Self.decode(#"{"hostname":"h","uptime_seconds":12345.97}"#).uptimeSeconds == 12345)
        #expect(try Self.decode(#"{"uptime_seconds":0.4}"#).uptimeSeconds == 0)
        #expect(try Self.decode(#"{"uptime_seconds":77}"#).uptimeSeconds == 77)
    }

    @Test func knownFieldsOfTheWrongTypeMoveToExtra() throws {
        let data = try Self.decode(
            #"{"hostname":"h","uptime_seconds":"long","timestamp":"1700000000x","next_volume_id":42,"status":["a"],"image_type":"demo"}"#)
        #expect(data.hostname == "h")
        #expect(data.imageType == "demo")
        #expect(data.uptimeSeconds == nil)
        #expect(data.timestamp == nil)
        #expect(data.nextVolumeID == nil)
        #expect(data.status == nil)
        #expect(data.extra["uptime_seconds"] == .string("long"))
        #expect(data.extra["timestamp"] == .string("1700000000x"))
        #expect(data.extra["next_volume_id"] == .int(42))
        #expect(data.extra["status"] == .array([.string("a")]))
    }

    @Test func mistypedFieldsAreForwardedAsSent() throws {
        let data = try Self.decode(#"{"hostname":"h","next_timestamp":1.5,"volume_id":null}"#)
        #expect(data.nextTimestamp == nil)
        let encoded = try JSONEncoder().encode(data)
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["next_timestamp"] as? Double == 1.5)
        #expect(object["hostname"] as? String == "h")
        #expect(object["volume_id"] == nil)
        #expect(try JSONDecoder().decode(ReportData.self, from: encoded) == data)
    }

    @Test func aMistypedReportStillReachesTheHub() throws {
        let message = try HubMessage.decode(#"{"type":"report","data":{"hostname":"old-client","uptime_seconds":3.9}}"#)
        guard case .report(let report) = message else {
            Issue.record("not a report")
            return
        }
        #expect(report.data.hostname == "old-client")
        #expect(report.data.uptimeSeconds == 3)
    }
}
