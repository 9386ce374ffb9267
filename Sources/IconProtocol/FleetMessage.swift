import Foundation

/// One WebSocket frame of the original Iconograph fleet protocol: a JSON object with a `type`,
/// a `data` object and, depending on the type and direction, `target`, `id`, `received` and
/// `client`.
///
/// | type           | direction                  | data                                      |
/// |----------------|----------------------------|-------------------------------------------|
/// | `image_types`  | server → everyone          | `{"image_types": [String]}`               |
/// | `report`       | machine → server → operators | the machine's report (free-form)        |
/// | `targets`      | server → operators         | `{"targets": [hostname]}`                 |
/// | `command`      | operator → server → machine | `{"command": "reboot", "timestamp"?: N}` |
/// | `new_manifest` | server → everyone          | `{"image_type": String}`                  |
public struct FleetMessage: Codable, Hashable, Sendable {
    public var type: String
    public var data: JSONValue
    /// The hostname a command is for.
    public var target: String?
    /// Set by the server on relayed reports and commands: a fresh UUID.
    public var id: String?
    /// Set by the server on relayed reports and commands: when it received them (Unix seconds).
    public var received: Int?
    /// Set by the server on relayed reports and commands: the sender's address.
    public var client: String?

    public init(
        type: String, data: JSONValue, target: String? = nil, id: String? = nil,
        received: Int? = nil, client: String? = nil
    ) {
        self.type = type
        self.data = data
        self.target = target
        self.id = id
        self.received = received
        self.client = client
    }

    public enum Kind {
        public static let imageTypes = "image_types"
        public static let report = "report"
        public static let targets = "targets"
        public static let command = "command"
        public static let newManifest = "new_manifest"
    }

    /// `{"type":"image_types","data":{"image_types":[...]}}`
    public static func imageTypes(_ types: [String]) -> FleetMessage {
        FleetMessage(type: Kind.imageTypes, data: .object(["image_types": .array(types.map(JSONValue.string))]))
    }

    /// `{"type":"targets","data":{"targets":[...]}}`
    public static func targets(_ hostnames: [String]) -> FleetMessage {
        FleetMessage(type: Kind.targets, data: .object(["targets": .array(hostnames.map(JSONValue.string))]))
    }

    /// `{"type":"new_manifest","data":{"image_type":...}}`
    public static func newManifest(imageType: String) -> FleetMessage {
        FleetMessage(type: Kind.newManifest, data: .object(["image_type": .string(imageType)]))
    }

    /// `{"type":"report","data":{...}}` as a machine sends it.
    public static func report(_ fields: [String: JSONValue]) -> FleetMessage {
        FleetMessage(type: Kind.report, data: .object(fields))
    }

    /// `{"type":"command","target":host,"data":{"command":"reboot","timestamp"?:N}}` as an operator sends it.
    public static func reboot(target: String, timestamp: Int? = nil) -> FleetMessage {
        var data: [String: JSONValue] = ["command": .string("reboot")]
        if let timestamp { data["timestamp"] = .int(timestamp) }
        return FleetMessage(type: Kind.command, data: .object(data), target: target)
    }

    /// The JSON text of this message (keys sorted, so equal messages give equal text).
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a tree of strings, numbers and containers cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Parses one frame; nil when it is not a JSON object with a string `type` and an object `data`.
    public static func decode(_ text: String) -> FleetMessage? {
        guard let message = try? JSONDecoder().decode(FleetMessage.self, from: Data(text.utf8)) else { return nil }
        guard case .object = message.data else { return nil }
        return message
    }
}
