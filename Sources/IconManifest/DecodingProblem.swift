/// A decoding failure as a short phrase for a one-line message: the JSON field at fault in
/// dotted form (`images[0].hash`), never `DecodingError`'s dump of coding keys.
enum DecodingProblem {
    /// "it is not valid JSON", "\"images[0].hash\" is missing", "\"timestamp\" is not a number" ...
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "it does not parse" }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(quoted(context.codingPath)) has an invalid value"
        case .keyNotFound(let key, let context):
            return "\(quoted(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? "it is not a JSON object" : "\(quoted(context.codingPath)) is not \(kind(type))"
        case .valueNotFound(_, let context):
            return context.codingPath.isEmpty ? "it is empty" : "\(quoted(context.codingPath)) is null"
        @unknown default:
            return "it does not parse"
        }
    }

    /// `images[0].hash` in quotes.
    static func quoted(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return "\"\(text)\""
    }

    /// The JSON kind a Swift type decodes from.
    static func kind(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Int", "Double", "Int64", "UInt32": return "a number"
        case "Bool": return "true or false"
        default: return "of the expected type"
        }
    }
}
