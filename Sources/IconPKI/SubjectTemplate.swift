import Foundation
import IconCore
import SwiftASN1
public import X509

/// An OpenSSL-style subject string such as `/C=US/ST=California/O=Example/CN=SYSTEMID`,
/// in which the placeholder `SYSTEMID` stands for a machine's id.
///
/// The certificate server and the certificate client both build subjects from the same
/// template (the client for its request, the server for what it issues), so the parsing
/// lives here once. Keys: `C`, `ST`, `L`, `O`, `OU`, `CN`, `street`, `DC`, `emailAddress`.
/// `\/` escapes a slash inside a value, as in `openssl req -subj`.
public struct SubjectTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The placeholder replaced by the machine's id.
    public static let placeholder = "SYSTEMID"

    /// The `(key, value)` pairs in order, values still holding the placeholder.
    public let components: [(key: String, value: String)]

    /// The template text as given.
    public let text: String

    /// Parses `text`.
    ///
    /// - Throws: `.invalidArgument` naming the template when it does not start with `/`, a
    ///   component has no `=`, a key is unknown, or a value is empty.
    public init(_ text: String) throws {
        guard text.hasPrefix("/") else {
            throw IconError(.invalidArgument, "subject template \(text) must start with '/', like /O=Example/CN=SYSTEMID")
        }
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text.dropFirst() {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "/" {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        var components: [(key: String, value: String)] = []
        for part in parts where !part.isEmpty {
            guard let equals = part.firstIndex(of: "=") else {
                throw IconError(.invalidArgument, "subject template \(text): component '\(part)' has no '='")
            }
            let key = String(part[..<equals]).trimmingCharacters(in: .whitespaces)
            let value = String(part[part.index(after: equals)...])
            guard Self.attributeTypes[key] != nil else {
                throw IconError(
                    .invalidArgument,
                    "subject template \(text): unknown key '\(key)'; use one of \(Self.attributeTypes.keys.sorted().joined(separator: ", "))")
            }
            guard !value.isEmpty else {
                throw IconError(.invalidArgument, "subject template \(text): '\(key)' has an empty value")
            }
            components.append((key, value))
        }
        guard !components.isEmpty else {
            throw IconError(.invalidArgument, "subject template \(text) names no attribute")
        }
        self.components = components
        self.text = text
    }

    /// The distinguished name with every `SYSTEMID` replaced by `systemID`.
    ///
    /// - Throws: `.invalidArgument` when a country is not two printable characters.
    public func distinguishedName(systemID: String) throws -> DistinguishedName {
        var rdns: [RelativeDistinguishedName] = []
        for (key, template) in components {
            let value = template.replacingOccurrences(of: Self.placeholder, with: systemID)
            let type = Self.attributeTypes[key]!
            let attribute: RelativeDistinguishedName.Attribute
            do {
                // PrintableString for the country (RFC 5280 requires it), UTF8String otherwise,
                // which is what `openssl req -subj` writes by default.
                if type == .RDNAttributeType.countryName {
                    guard value.count == 2 else {
                        throw IconError(.invalidArgument, "subject \(text): country '\(value)' must be two letters")
                    }
                    attribute = try .init(type: type, printableString: value)
                } else if type == .RDNAttributeType.emailAddress || type == .RDNAttributeType.domainComponent {
                    attribute = try .init(type: type, ia5String: value)
                } else {
                    attribute = .init(type: type, utf8String: value)
                }
            } catch let error as IconError {
                throw error
            } catch {
                throw IconError(.invalidArgument, "subject \(text): value '\(value)' of '\(key)' is not allowed", cause: error)
            }
            rdns.append(RelativeDistinguishedName(attribute))
        }
        return DistinguishedName(rdns)
    }

    /// The common name (`CN`) of `name`, if it has exactly one.
    public static func commonName(of name: DistinguishedName) -> String? {
        let values = name.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        guard values.count == 1 else { return nil }
        return String(values[0].value)
    }

    public var description: String { text }

    public static func == (lhs: SubjectTemplate, rhs: SubjectTemplate) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    static let attributeTypes: [String: ASN1ObjectIdentifier] = [
        "C": .RDNAttributeType.countryName,
        "ST": .RDNAttributeType.stateOrProvinceName,
        "L": .RDNAttributeType.localityName,
        "O": .RDNAttributeType.organizationName,
        "OU": .RDNAttributeType.organizationalUnitName,
        "CN": .RDNAttributeType.commonName,
        "street": .RDNAttributeType.streetAddress,
        "DC": .RDNAttributeType.domainComponent,
        "emailAddress": .RDNAttributeType.emailAddress,
    ]
}
