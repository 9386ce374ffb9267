import Foundation

/// WebSocket subprotocol names of the fleet hub.
public enum HubSubprotocol {
    /// Machines connect to `/ws/slave` with this subprotocol.
    public static let slave = "iconograph-slave"
    /// Operators connect to `/ws/master` with this subprotocol.
    public static let master = "iconograph-master"
}

/// A message on the hub's WebSockets, in the original's JSON form `{"type": ..., "data": {...}}`.
public enum HubMessage: Codable, Sendable, Hashable {
    /// Server → everyone on connect: `{"type":"image_types","data":{"image_types":[...]}}`.
    case imageTypes([String])
    /// Machine → server, and server → operators with `id`, `received` and `client` added.
    case report(Report)
    /// Server → operators: `{"type":"targets","data":{"targets":[hostnames]}}`.
    case targets([String])
    /// Operator → server, and server → the one target machine with `id`, `received` and `client` added.
    case command(Command)
    /// Server → everyone: `{"type":"new_manifest","data":{"image_type":...}}`.
    case newManifest(imageType: String)

    /// The `type` field of this message.
    public var type: String {
        switch self {
        case .imageTypes: "image_types"
        case .report: "report"
        case .targets: "targets"
        case .command: "command"
        case .newManifest: "new_manifest"
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, data, id, received, client, target
    }

    struct ImageTypesData: Codable { var image_types: [String] }
    struct TargetsData: Codable { var targets: [String] }
    struct NewManifestData: Codable { var image_type: String }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "image_types":
            self = .imageTypes(try container.decode(ImageTypesData.self, forKey: .data).image_types)
        case "targets":
            self = .targets(try container.decode(TargetsData.self, forKey: .data).targets)
        case "new_manifest":
            self = .newManifest(imageType: try container.decode(NewManifestData.self, forKey: .data).image_type)
        case "report":
            self = .report(
                Report(
                    data: try container.decode(ReportData.self, forKey: .data),
                    id: try container.decodeIfPresent(String.self, forKey: .id),
                    received: try container.decodeIfPresent(Int.self, forKey: .received),
                    client: try container.decodeIfPresent(String.self, forKey: .client)))
        case "command":
            self = .command(
                Command(
                    target: try container.decode(String.self, forKey: .target),
                    data: try container.decode(CommandData.self, forKey: .data),
                    id: try container.decodeIfPresent(String.self, forKey: .id),
                    received: try container.decodeIfPresent(Int.self, forKey: .received),
                    client: try container.decodeIfPresent(String.self, forKey: .client)))
        default:
            throw HubMessageError.unknownType(type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .imageTypes(let types):
            try container.encode(ImageTypesData(image_types: types), forKey: .data)
        case .targets(let targets):
            try container.encode(TargetsData(targets: targets), forKey: .data)
        case .newManifest(let imageType):
            try container.encode(NewManifestData(image_type: imageType), forKey: .data)
        case .report(let report):
            try container.encode(report.data, forKey: .data)
            try container.encodeIfPresent(report.id, forKey: .id)
            try container.encodeIfPresent(report.received, forKey: .received)
            try container.encodeIfPresent(report.client, forKey: .client)
        case .command(let command):
            try container.encode(command.target, forKey: .target)
            try container.encode(command.data, forKey: .data)
            try container.encodeIfPresent(command.id, forKey: .id)
            try container.encodeIfPresent(command.received, forKey: .received)
            try container.encodeIfPresent(command.client, forKey: .client)
        }
    }

    /// Parses one text frame.
    ///
    /// - Throws: `HubMessageError.notJSON`, `.unknownType` or `.invalid`, each with a reason for the log.
    public static func decode(_ text: String) throws(HubMessageError) -> HubMessage {
        let data = Data(text.utf8)
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else { throw .notJSON }
        do {
            return try JSONDecoder().decode(HubMessage.self, from: data)
        } catch let error as HubMessageError {
            throw error
        } catch {
            throw .invalid(String(describing: error))
        }
    }

    /// The JSON text of this message, keys sorted.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and dictionaries cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Why a frame is not a usable hub message.
public enum HubMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The frame is not a JSON object.
    case notJSON
    /// The `type` is not one the protocol knows.
    case unknownType(String)
    /// Fields are missing or of the wrong kind.
    case invalid(String)

    public var description: String {
        switch self {
        case .notJSON: "frame is not a JSON object"
        case .unknownType(let type): "unknown message type '\(type)'"
        case .invalid(let reason): "invalid message: \(reason)"
        }
    }
}
