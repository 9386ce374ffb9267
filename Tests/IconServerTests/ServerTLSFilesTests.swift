import Foundation
import IconCore
import IconTLS
import IconTestSupport
import NIOSSL
import Testing

/// The one loader of server certificate chains and keys, which both servers use.
@Suite struct ServerTLSFilesTests {
    @Test func aMatchingChainAndKeyGiveAServerConfiguration() throws {
        try withTemporaryDirectorySync { dir in
            let pki = try TestPKI(directory: dir.path)
            let clientCAs = try ServerTLSFiles.certificates(atPath: pki.root.certPath, flag: "--client-ca-cert")
            let files = ServerTLSFiles(certificateChainPath: pki.server.certPath, privateKeyPath: pki.server.keyPath)
            let tls = try files.configuration(trustingClientsOf: clientCAs)
            #expect(tls.minimumTLSVersion == .tlsv12)
            #expect(tls.certificateChain.count >= 1)
        }
    }

    @Test func aKeyOfAnotherCertificateIsRefusedNamingBothFiles() throws {
        try withTemporaryDirectorySync { dir in
            let pki = try TestPKI(directory: dir.path)
            let files = ServerTLSFiles(certificateChainPath: pki.server.certPath, privateKeyPath: pki.device.keyPath)
            let error = #expect(throws: IconError.self) { try files.configuration(trustingClientsOf: []) }
            #expect(error?.code == .badKey)
            #expect(
                error?.message
                    == "--cert \(pki.server.certPath) and --key \(pki.device.keyPath) are not a matching certificate and key")
        }
    }

    @Test func missingAndUnusableFilesNameTheirFlag() throws {
        try withTemporaryDirectorySync { dir in
            let pki = try TestPKI(directory: dir.path)
            let missing = dir.join("missing.pem")
            let notPEM = dir.join("not.pem")
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notPEM))
            let noCert = #expect(throws: IconError.self) {
                try ServerTLSFiles(certificateChainPath: missing, privateKeyPath: pki.server.keyPath)
                    .configuration(trustingClientsOf: [])
            }
            #expect(noCert?.code == .notFound)
            #expect(noCert?.message == "--cert \(missing) does not exist")
            let noKey = #expect(throws: IconError.self) {
                try ServerTLSFiles(certificateChainPath: pki.server.certPath, privateKeyPath: notPEM)
                    .configuration(trustingClientsOf: [])
            }
            #expect(noKey?.code == .badKey)
            #expect(noKey?.message == "--key \(notPEM) holds no usable PEM private key")
            let noCA = #expect(throws: IconError.self) {
                try ServerTLSFiles.certificates(atPath: notPEM, flag: "--client-ca-cert")
            }
            #expect(noCA?.code == .badKey)
            #expect(noCA?.message.hasPrefix("--client-ca-cert \(notPEM) holds no") == true)
        }
    }
}
