import Foundation
import IconTestSupport
import NIOSSL

/// A client certificate made by `openssl x509 -req`, signed by the test intermediate: for
/// certificates swift-certificates cannot make or even parse (RSA-1024, no extensions at all).
struct OpenSSLLeaf {
    let certPath: String
    let keyPath: String

    /// - Parameters:
    ///   - newKey: `openssl req` key options, e.g. `["-newkey", "rsa:1024"]`.
    ///   - extensions: the lines of an `-extfile`, or `nil` for a certificate without extensions.
    init(pki: TestPKI, name: String, file: String, newKey: [String], extensions: String?) throws {
        let directory = pki.directory
        certPath = "\(directory)/\(file).cert.pem"
        keyPath = "\(directory)/\(file).key.pem"
        let csrPath = "\(directory)/\(file).csr.pem"
        try OpenSSLTool.mustRun(["req", "-new", "-nodes"] + newKey + ["-keyout", keyPath, "-subj", "/O=Iconograph Test/CN=\(name)", "-out", csrPath])
        var arguments = [
            "x509", "-req", "-in", csrPath, "-CA", pki.intermediate.certPath, "-CAkey", pki.intermediate.keyPath,
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-out", certPath,
        ]
        if let extensions {
            let extPath = "\(directory)/\(file).ext"
            try extensions.write(toFile: extPath, atomically: true, encoding: .utf8)
            arguments += ["-extfile", extPath]
        }
        try OpenSSLTool.mustRun(arguments)
    }

    /// Client TLS presenting this certificate and the intermediate, trusting the test root.
    func clientTLS(_ pki: TestPKI) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.root.certPath))
        let chain = try NIOSSLCertificate.fromPEMFile(certPath) + NIOSSLCertificate.fromPEMFile(pki.intermediate.certPath)
        tls.certificateChain = chain.map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        return tls
    }
}
