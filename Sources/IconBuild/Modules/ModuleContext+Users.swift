import Foundation
import IconCore

extension ModuleContext {
    /// Adds (or, when it exists, updates) a login user in the image with `useradd`/`usermod`
    /// run in the chroot, and installs an SSH authorized key when given.
    ///
    /// - Parameters:
    ///   - passwordHash: a crypt(3) hash (`$6$...` or `$y$...`), as `useradd --password` takes.
    ///   - authorizedKey: the text of an authorized_keys file.
    public func addUser(name: String, passwordHash: String?, groups: [String] = [], authorizedKey: String? = nil) async throws {
        for value in [name] + groups where !Self.isUserName(value) {
            throw IconError(.invalidArgument, "'\(value)' is not a valid user or group name")
        }
        if let passwordHash {
            try SystemdUnit.checkLine(passwordHash)
            guard !passwordHash.contains(":"), !passwordHash.isEmpty else {
                throw IconError(.invalidArgument, "--password-hash must be a crypt hash without ':'")
            }
        }
        let passwd = (try? String(contentsOfFile: try hostPath("/etc/passwd"), encoding: .utf8)) ?? ""
        let exists = passwd.split(separator: "\n").contains { $0.hasPrefix("\(name):") }
        var arguments = exists ? ["usermod"] : ["useradd", "--create-home", "--shell", "/bin/bash"]
        if let passwordHash { arguments += ["--password", passwordHash] }
        if !groups.isEmpty { arguments += ["--groups", groups.joined(separator: ",")] }
        try await runInChroot(arguments + ["--", name])
        if let authorizedKey {
            try SystemdUnit.checkLine(authorizedKey.replacingOccurrences(of: "\n", with: ""))
            let home = "/home/\(name)"
            try writeFile("\(home)/.ssh/authorized_keys", text: authorizedKey.hasSuffix("\n") ? authorizedKey : authorizedKey + "\n", mode: 0o600)
            guard chmod(try hostPath("\(home)/.ssh"), 0o700) == 0 else {
                throw IconError(.io, "cannot chmod \(home)/.ssh in \(chrootPath): \(errnoText())")
            }
            // Ownership by name inside the chroot: the uid exists only in the image's passwd.
            try await runInChroot(["chown", "-R", "--", "\(name):\(name)", "\(home)/.ssh"])
        }
    }

    /// Debian's default NAME_REGEX for users and groups.
    static func isUserName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase || first == "_", name.count <= 32 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "_-".contains($0)) }
    }
}
