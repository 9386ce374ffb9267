import Foundation
import IconCore

/// The `adduser` stock module: a login user with a crypt password hash, groups and an
/// optional SSH authorized key.
public struct AddUserModule: Sendable {
    public var username: String
    public var passwordHash: String?
    public var groups: [String]
    /// Host path of an authorized_keys file.
    public var authorizedKey: String?

    public init(username: String, passwordHash: String? = nil, groups: [String] = [], authorizedKey: String? = nil) {
        self.username = username
        self.passwordHash = passwordHash
        self.groups = groups
        self.authorizedKey = authorizedKey
    }

    public func apply(to context: ModuleContext) async throws {
        var key: String?
        if let authorizedKey {
            guard let data = FileManager.default.contents(atPath: authorizedKey) else {
                throw IconError(.notFound, "cannot read --authorized-key \(authorizedKey)")
            }
            key = String(decoding: data, as: UTF8.self)
        }
        try await context.addUser(name: username, passwordHash: passwordHash, groups: groups, authorizedKey: key)
    }
}
