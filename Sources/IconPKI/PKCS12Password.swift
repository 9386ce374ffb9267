import Foundation
import IconCore

/// Passwords for PKCS#12 files: new random ones, and the first line of a password file (the
/// convention of `openssl -passin file:` and `pk12util -w`).
public enum PKCS12Password {
    /// Letters and digits without the look-alikes 0/O/o, 1/l/I: easy to read off a screen and type.
    public static let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    /// Length of a generated password: 16 characters of ``alphabet`` carry about 93 bits.
    public static let generatedLength = 16

    /// A new random password of `length` characters from ``alphabet``, drawn from the system's
    /// cryptographic random number generator.
    public static func generate(length: Int = generatedLength) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The first line of the file at `path`, without its line ending.
    ///
    /// - Throws: `.notFound` when the file is missing, `.io` when it cannot be read,
    ///   `.invalidArgument` when the first line is empty or not UTF-8; messages name `path`.
    public static func read(fromFile path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "the password file \(path) does not exist")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw IconError(.io, "cannot read the password file \(path)", cause: error)
        }
        let firstLine = data.prefix { $0 != UInt8(ascii: "\n") }
        guard var password = String(data: firstLine, encoding: .utf8) else {
            throw IconError(.invalidArgument, "the first line of the password file \(path) is not UTF-8 text")
        }
        if password.hasSuffix("\r") { password.removeLast() }
        guard !password.isEmpty else {
            throw IconError(.invalidArgument, "the first line of the password file \(path) is empty; write the password there")
        }
        return password
    }
}
