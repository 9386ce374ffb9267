public import Crypto
import Foundation
import IconCore

/// An ed25519 SSH host key in OpenSSH's own formats, generated with swift-crypto.
///
/// The private key file is the unencrypted `openssh-key-v1` format that `ssh-keygen`
/// writes (PROTOCOL.key in OpenSSH's sources); the public key is the one-line
/// `ssh-ed25519 <base64> <comment>` form.
public struct SSHHostKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    /// The comment stored in both files, e.g. `root@a1b2c3`.
    public let comment: String

    public init(privateKey: Curve25519.Signing.PrivateKey = .init(), comment: String) {
        self.privateKey = privateKey
        self.comment = comment
    }

    /// The public key blob: `string "ssh-ed25519"`, `string <32 bytes>`.
    public var publicKeyBlob: [UInt8] {
        var blob: [UInt8] = []
        Self.append(string: Array("ssh-ed25519".utf8), to: &blob)
        Self.append(string: Array(privateKey.publicKey.rawRepresentation), to: &blob)
        return blob
    }

    /// The `.pub` file's line, ending in a newline.
    public var publicKeyLine: String {
        "ssh-ed25519 \(Data(publicKeyBlob).base64EncodedString()) \(comment)\n"
    }

    /// The private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`), ending in a newline.
    ///
    /// - Parameter checkInt: the random check value OpenSSH repeats twice to detect a wrong
    ///   passphrase; injectable so tests can produce fixed output.
    public func privateKeyFile(checkInt: UInt32 = .random(in: .min ... .max)) -> String {
        let publicKey = Array(privateKey.publicKey.rawRepresentation)
        var secret: [UInt8] = []
        Self.append(uint32: checkInt, to: &secret)
        Self.append(uint32: checkInt, to: &secret)
        Self.append(string: Array("ssh-ed25519".utf8), to: &secret)
        Self.append(string: publicKey, to: &secret)
        // OpenSSH stores the 32-byte seed followed by the public key as the 64-byte secret.
        Self.append(string: Array(privateKey.rawRepresentation) + publicKey, to: &secret)
        Self.append(string: Array(comment.utf8), to: &secret)
        var pad: UInt8 = 1
        while secret.count % 8 != 0 {
            secret.append(pad)
            pad += 1
        }
        var body = Array("openssh-key-v1".utf8) + [0]
        Self.append(string: Array("none".utf8), to: &body)
        Self.append(string: Array("none".utf8), to: &body)
        Self.append(string: [], to: &body)
        Self.append(uint32: 1, to: &body)
        Self.append(string: publicKeyBlob, to: &body)
        Self.append(string: secret, to: &body)
        let base64 = Data(body).base64EncodedString()
        var lines = ["-----BEGIN OPENSSH PRIVATE KEY-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 70, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END OPENSSH PRIVATE KEY-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `<directory>/<name>` (mode 0600) and `<directory>/<name>.pub` (0644) atomically.
    /// - Throws: `.io` naming the file.
    public func write(to directory: String, name: String = "ssh_host_ed25519_key") throws {
        try AtomicFile.write(Array(privateKeyFile().utf8), to: "\(directory)/\(name)", mode: 0o600)
        try AtomicFile.write(Array(publicKeyLine.utf8), to: "\(directory)/\(name).pub", mode: 0o644)
    }

    private static func append(uint32 value: UInt32, to buffer: inout [UInt8]) {
        buffer += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    private static func append(string bytes: [UInt8], to buffer: inout [UInt8]) {
        append(uint32: UInt32(bytes.count), to: &buffer)
        buffer += bytes
    }
}
