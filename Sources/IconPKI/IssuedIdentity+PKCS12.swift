import Foundation
import IconCore

extension IssuedIdentity {
    /// The certificate, its chain and its key as a PKCS#12 file (see ``PKCS12File``), named
    /// after the certificate's common name.
    ///
    /// - Throws: as ``PKCS12File/encode(certificate:chain:privateKey:password:friendlyName:iterations:)``.
    public func pkcs12(password: String, iterations: Int = PKCS12File.defaultIterations) throws -> [UInt8] {
        try PKCS12File.encode(
            certificate: certificate, chain: chain, privateKey: privateKey, password: password, iterations: iterations)
    }

    /// Writes `<prefix>.p12` (mode 0600) atomically, creating the parent directory if needed.
    ///
    /// With `password` nil, a new ``PKCS12Password/generate(length:)`` password protects the
    /// file and is written first to `<prefix>.p12.password` (mode 0600, one line). With a
    /// `password`, a `<prefix>.p12.password` left by an earlier issue is removed unless it holds
    /// that password, so no file next to the new `.p12` names a wrong one.
    /// - Returns: the path of the `.p12` and of the password file, if one holds its password.
    /// - Throws: `.io` naming the file that could not be written or removed, and the errors of
    ///   ``pkcs12(password:iterations:)``.
    @discardableResult
    public func writePKCS12(prefix: String, password: String?) throws -> (bundle: String, passwordFile: String?) {
        let bundlePath = "\(prefix).p12"
        let passwordPath = "\(prefix).p12.password"
        let chosen = password ?? PKCS12Password.generate()
        let bytes = try pkcs12(password: chosen)
        try Self.createParentDirectory(of: prefix)
        var passwordFile: String?
        if password == nil {
            try AtomicFile.write(Array((chosen + "\n").utf8), to: passwordPath, mode: 0o600)
            passwordFile = passwordPath
        } else if FileManager.default.fileExists(atPath: passwordPath) {
            if (try? PKCS12Password.read(fromFile: passwordPath)) == chosen {
                passwordFile = passwordPath
            } else if unlink(passwordPath) != 0 && errno != ENOENT {
                throw IconError(.io, "cannot remove the outdated password file \(passwordPath): \(errnoText())")
            }
        }
        try AtomicFile.write(bytes, to: bundlePath, mode: 0o600)
        return (bundlePath, passwordFile)
    }
}
