import Foundation
import IconProtocol
import Testing

@Suite struct FleetMessageTests {
    /// The frames of the original protocol, as its server and clients write them.
    @Test func serverMessagesHaveTheOriginalShape() throws {
        #expect(FleetMessage.imageTypes(["robot", "kiosk"]).encoded() == #"{"data":{"image_types":["robot","kiosk"]},"type":"image_types"}"#)
        #expect(FleetMessage.targets(["a", "b"]).encoded() == #"{"data":{"targets":["a","b"]},"type":"targets"}"#)
        #expect(FleetMessage.newManifest(imageType: "robot").encoded() == #"{"data":{"image_type":"robot"},"type":"new_manifest"}"#)
        #expect(FleetMessage.reboot(target: "vm", timestamp: 1459629717).encoded() == #"{"data":{"command":"reboot","timestamp":1459629717},"target":"vm","type":"command"}"#)
        #expect(FleetMessage.reboot(target: "vm").encoded() == #"{"data":{"command":"reboot"},"target":"vm","type":"command"}"#)
    }

    @Test func relayedReportRoundTrips() throws {
        let text = #"{"type":"report","id":"0b9c","received":1700000000,"client":"127.0.0.1","data":{"hostname":"vm","uptime_seconds":12.5,"timestamp":1459629717,"volume_id":"ICON_DEMO_B","extra":{"nested":[1,null,true]}}}"#
        let message = try #require(FleetMessage.decode(text))
        #expect(message.type == "report")
        #expect(message.id == "0b9c")
        #expect(message.received == 1_700_000_000)
        #expect(message.client == "127.0.0.1")
        #expect(message.data["hostname"]?.stringValue == "vm")
        #expect(message.data["timestamp"]?.intValue == 1_459_629_717)
        #expect(message.data["uptime_seconds"] == .double(12.5))
        #expect(message.data["extra"]?["nested"] == .array([.int(1), .null, .bool(true)]))
        #expect(FleetMessage.decode(message.encoded()) == message)
    }

    @Test(arguments: ["", "not json", "[]", #"{"type":"report"}"#, #"{"type":1,"data":{}}"#, #"{"type":"report","data":[1]}"#])
    func malformedFramesAreRejected(text: String) {
        #expect(FleetMessage.decode(text) == nil)
    }
}
