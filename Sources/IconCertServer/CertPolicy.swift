import Foundation
import IconCore
public import IconPKI

/// What the certificate server is willing to issue: the subject (from a template with the
/// machine's id), which key types a request may carry, for how long, and for what use.
///
/// Loaded from flags or a JSON file (`--policy`), for example:
/// ```json
/// { "subjectTemplate": "/C=US/ST=California/O=Example/CN=SYSTEMID",
///   "systemIDPattern": "^[0-9a-f]{6}$", "allowedKeyTypes": ["p256", "p384", "rsa"],
///   "minimumRSABits": 2048, "validityDays": 365, "extendedKeyUsages": ["clientAuth"] }
/// ```
public struct CertPolicy: Sendable, Codable, Equatable {
    /// A key type a request may carry.
    public enum KeyType: String, Sendable, Codable, CaseIterable {
        case p256, p384, rsa
    }

    /// An extended key usage the issued certificate carries.
    public enum Usage: String, Sendable, Codable, CaseIterable {
        case clientAuth, serverAuth
    }

    /// The default machine id: six lowercase hex digits, as `icon systemid image` makes.
    public static let defaultSystemIDPattern = "^[0-9a-f]{6}$"

    /// The subject of issued certificates; `SYSTEMID` is replaced by the id from the CSR's CN.
    public var subjectTemplate: String
    /// A regular expression the whole machine id (the CSR's CN) must match.
    public var systemIDPattern: String
    /// Key types accepted in a request.
    public var allowedKeyTypes: [KeyType]
    /// The smallest RSA modulus accepted, in bits.
    public var minimumRSABits: Int
    /// Days an issued certificate stays valid.
    public var validityDays: Int
    /// Extended key usages of issued certificates.
    public var extendedKeyUsages: [Usage]

    /// A policy; defaults: P-256, P-384 and RSA ≥ 2048, a year, clientAuth.
    public init(
        subjectTemplate: String,
        systemIDPattern: String = CertPolicy.defaultSystemIDPattern,
        allowedKeyTypes: [KeyType] = KeyType.allCases,
        minimumRSABits: Int = 2048,
        validityDays: Int = 365,
        extendedKeyUsages: [Usage] = [.clientAuth]
    ) {
        self.subjectTemplate = subjectTemplate
        self.systemIDPattern = systemIDPattern
        self.allowedKeyTypes = allowedKeyTypes
        self.minimumRSABits = minimumRSABits
        self.validityDays = validityDays
        self.extendedKeyUsages = extendedKeyUsages
    }

    enum CodingKeys: String, CodingKey {
        case subjectTemplate, systemIDPattern, allowedKeyTypes, minimumRSABits, validityDays, extendedKeyUsages
    }

    /// Decodes a policy; every field but `subjectTemplate` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            subjectTemplate: try c.decode(String.self, forKey: .subjectTemplate),
            systemIDPattern: try c.decodeIfPresent(String.self, forKey: .systemIDPattern) ?? Self.defaultSystemIDPattern,
            allowedKeyTypes: try c.decodeIfPresent([KeyType].self, forKey: .allowedKeyTypes) ?? KeyType.allCases,
            minimumRSABits: try c.decodeIfPresent(Int.self, forKey: .minimumRSABits) ?? 2048,
            validityDays: try c.decodeIfPresent(Int.self, forKey: .validityDays) ?? 365,
            extendedKeyUsages: try c.decodeIfPresent([Usage].self, forKey: .extendedKeyUsages) ?? [.clientAuth])
    }

    /// Loads a policy from the JSON file at `path`.
    ///
    /// - Throws: `.notFound`, `.io`, or `.invalidArgument` naming the file.
    public static func load(path: String) throws -> CertPolicy {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "policy file \(path) does not exist")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw IconError(.io, "cannot read policy file \(path)", cause: error)
        }
        let policy: CertPolicy
        do {
            policy = try JSONDecoder().decode(CertPolicy.self, from: data)
        } catch {
            throw IconError(.invalidArgument, "policy file \(path) is not a valid policy", cause: error)
        }
        try policy.validate(source: path)
        return policy
    }

    /// Checks the policy itself: the template parses, the pattern compiles, numbers are sane.
    ///
    /// - Throws: `.invalidArgument` naming `source` (a file or "flags").
    public func validate(source: String = "the policy") throws {
        _ = try template()
        _ = try regex(source: source)
        guard validityDays > 0 else {
            throw IconError(.invalidArgument, "\(source): validity days must be positive, not \(validityDays)")
        }
        guard minimumRSABits >= 2048 else {
            throw IconError(.invalidArgument, "\(source): RSA keys under 2048 bits cannot be allowed")
        }
        guard !allowedKeyTypes.isEmpty else {
            throw IconError(.invalidArgument, "\(source): at least one key type must be allowed")
        }
        guard !extendedKeyUsages.isEmpty else {
            throw IconError(.invalidArgument, "\(source): at least one extended key usage is needed")
        }
    }

    /// The parsed subject template.
    public func template() throws -> SubjectTemplate {
        try SubjectTemplate(subjectTemplate)
    }

    /// Whether `systemID` matches ``systemIDPattern`` in full.
    func allows(systemID: String) throws -> Bool {
        let regex = try regex(source: "the policy")
        let range = NSRange(systemID.startIndex..., in: systemID)
        guard let match = regex.firstMatch(in: systemID, range: range) else { return false }
        return match.range == range
    }

    func regex(source: String) throws -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: systemIDPattern)
        } catch {
            throw IconError(.invalidArgument, "\(source): system id pattern \(systemIDPattern) is not a valid regular expression", cause: error)
        }
    }
}
