import Foundation
import IconCore
import IconTestSupport
import SwiftASN1
import Testing

@testable import IconPKI
import X509

@Suite struct CertificateAuthorityTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    static func makeCA(_ dir: TemporaryDirectory) throws -> CertificateAuthority {
        try CertificateAuthority.create(in: dir.join("ca"), commonName: "Fleet", organization: "Example Org", now: Date())
    }

    @Test func createWritesAP384HierarchyWithPrivateKeys() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            #expect(try Self.mode(dir.join("ca/root.key.pem")) == 0o600)
            #expect(try Self.mode(dir.join("ca/intermediate.key.pem")) == 0o600)
            #expect(try Self.mode(dir.join("ca/root.cert.pem")) == 0o644)
            #expect(try Self.mode(dir.join("ca/intermediate.cert.pem")) == 0o644)
            // Files end in a newline so `cat root.cert.pem other.pem > roots.pem` works.
            #expect(try String(contentsOfFile: dir.join("ca/root.cert.pem"), encoding: .utf8).hasSuffix("-----\n"))

            #expect(ca.root.subject.description == "CN=Fleet Root CA,O=Example Org")
            #expect(ca.intermediate.issuer == ca.root.subject)
            #expect(try ca.root.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 1))
            #expect(try ca.intermediate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
            #expect(ca.root.publicKey.algorithmName == .p384)
            #expect(ca.intermediate.publicKey.algorithmName == .p384)
            #expect(try PEMFile.privateKey(atPath: dir.join("ca/root.key.pem")).publicKey == ca.root.publicKey)

            let loaded = try CertificateAuthority(directory: dir.join("ca"))
            #expect(loaded.root == ca.root)
            #expect(loaded.intermediate == ca.intermediate)

            // openssl agrees the intermediate chains to the root.
            let check = try OpenSSLTool.run(["verify", "-CAfile", "root.cert.pem", "intermediate.cert.pem"], in: dir.join("ca"))
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test func createWritesTheCABundleRootFirst() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            #expect(ca.caBundlePath == dir.join("ca/ca-bundle.pem"))
            #expect(try Self.mode(ca.caBundlePath) == 0o644)
            #expect(try PEMFile.certificates(atPath: ca.caBundlePath) == [ca.root, ca.intermediate])
            // The bundle is exactly the two certificate files one after the other.
            let concatenated = try String(contentsOfFile: ca.rootCertificatePath, encoding: .utf8)
                + String(contentsOfFile: ca.intermediateCertificatePath, encoding: .utf8)
            #expect(try String(contentsOfFile: ca.caBundlePath, encoding: .utf8) == concatenated)
            // openssl takes it as a CA file: a leaf verifies against the bundle alone.
            try ca.issue(role: .device, commonName: "kiosk-1", validityDays: 30, now: Date()).write(prefix: dir.join("kiosk-1"))
            let check = try OpenSSLTool.run(["verify", "-CAfile", ca.caBundlePath, dir.join("kiosk-1.cert.pem")])
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test func createRefusesAnExistingCA() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let before = try String(contentsOfFile: dir.join("ca/root.key.pem"), encoding: .utf8)
            let error = try #require(throws: IconError.self) { try Self.makeCA(dir) }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(dir.join("ca")))
            #expect(try String(contentsOfFile: dir.join("ca/root.key.pem"), encoding: .utf8) == before)
            #expect(try CertificateAuthority(directory: dir.join("ca")).root == ca.root)
        }
    }

    @Test func loadingRefusesAForeignIntermediateKey() async throws {
        try await withTemporaryDirectory { dir in
            _ = try Self.makeCA(dir)
            let other = try CertificateAuthority.create(in: dir.join("other"), commonName: "Other", organization: "O", now: Date())
            try FileManager.default.removeItem(atPath: dir.join("ca/intermediate.key.pem"))
            try FileManager.default.copyItem(atPath: other.directory + "/intermediate.key.pem", toPath: dir.join("ca/intermediate.key.pem"))
            let error = try #require(throws: IconError.self) { try CertificateAuthority(directory: dir.join("ca")) }
            #expect(error.code == .untrusted)
            #expect(error.message.contains("intermediate.key.pem"))
            expectIconError(.untrusted) { try CertificateAuthority(directory: dir.join("missing")) }
        }
    }

    @Test func issuedCertificatesVerifyOnlyForTheirPurpose() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let verifier = ChainVerifier(roots: [ca.root])
            for role in CertificateRole.allCases {
                let issued = try ca.issue(
                    role: role, commonName: "\(role.rawValue)-1",
                    dnsNames: role == .server ? ["localhost", "images.example.org"] : [],
                    ipAddresses: role == .server ? ["127.0.0.1", "::1"] : [], validityDays: 30, now: Date())
                #expect(CertificateRole.roles(of: issued.certificate) == [role])
                for purpose in CertificatePurpose.allCases {
                    let verdict = await verifier.verify(
                        leaf: issued.certificate, intermediates: [ca.intermediate], purpose: purpose, now: Date())
                    // Operator and provisioner certificates are also valid TLS clients; nothing else crosses over.
                    let expected = purpose == role.purpose || ([.operator, .provisioner].contains(role) && purpose == .clientAuth)
                    #expect(verdict.isTrusted == expected, "\(role) for \(purpose): \(verdict)")
                }
                let serial = issued.certificate.serialNumber.bytes
                #expect(serial.count == 20)
                #expect(serial.first! & 0x80 == 0)
                #expect(try issued.certificate.extensions.subjectKeyIdentifier != nil)
                #expect(try issued.certificate.extensions.authorityKeyIdentifier?.keyIdentifier
                    == ca.intermediate.extensions.subjectKeyIdentifier?.keyIdentifier)
                #expect(issued.certificate.publicKey.algorithmName == .p256)
                #expect(issued.certificate.subject.description == "CN=\(role.rawValue)-1,O=Example Org")
            }
        }
    }

    @Test func serverAndDeviceNames() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let server = try ca.issue(
                role: .server, commonName: "images", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"],
                validityDays: 30, now: Date())
            let names = try #require(try server.certificate.extensions.subjectAlternativeNames)
            #expect(Array(names) == [
                .dnsName("localhost"),
                .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
            ])
            let device = try ca.issue(role: .device, commonName: "kiosk-7", validityDays: 30, now: Date())
            #expect(Array(try #require(try device.certificate.extensions.subjectAlternativeNames)) == [.dnsName("kiosk-7")])
            let signer = try ca.issue(role: .signer, commonName: "Release Signer", validityDays: 30, now: Date())
            #expect(try signer.certificate.extensions.subjectAlternativeNames == nil)
        }
    }

    @Test func badIssueArgumentsAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let cases: [() throws -> IssuedIdentity] = [
                { try ca.issue(role: .server, commonName: "s", ipAddresses: ["300.1.1.1"], validityDays: 1, now: Date()) },
                { try ca.issue(role: .server, commonName: "s", dnsNames: ["bad name"], validityDays: 1, now: Date()) },
                { try ca.issue(role: .signer, commonName: "s", dnsNames: ["a.example"], validityDays: 1, now: Date()) },
                { try ca.issue(role: .device, commonName: "d", validityDays: 0, now: Date()) },
                { try ca.issue(role: .device, commonName: "", validityDays: 1, now: Date()) },
            ]
            for make in cases {
                let error = try #require(throws: IconError.self) { try make() }
                #expect(error.code == .invalidArgument)
            }
        }
    }

    @Test func issuedCertificateExpiresAfterItsValidity() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let issued = try ca.issue(role: .signer, commonName: "Short", validityDays: 1, now: Date())
            let verdict = await ChainVerifier(roots: [ca.root]).verify(
                leaf: issued.certificate, intermediates: [ca.intermediate], purpose: .manifestSigning,
                now: Date().addingTimeInterval(2 * 86400))
            guard case .untrusted(let reason) = verdict else {
                Issue.record("expected untrusted")
                return
            }
            #expect(reason.contains("expired"))
        }
    }

    @Test func writtenIdentitiesPassOpenSSLVerify() async throws {
        try await withTemporaryDirectory { dir in
            let ca = try Self.makeCA(dir)
            let cases: [(CertificateRole, String)] = [
                (.server, "sslserver"), (.device, "sslclient"), (.operator, "sslclient"), (.signer, "any"),
            ]
            for (role, purpose) in cases {
                let issued = try ca.issue(
                    role: role, commonName: "\(role.rawValue).example", dnsNames: [], ipAddresses: [],
                    validityDays: 10, now: Date())
                let paths = try issued.write(prefix: dir.join("out/\(role.rawValue)"))
                #expect(paths.certificate == dir.join("out/\(role.rawValue).cert.pem"))
                #expect(try Self.mode(paths.key) == 0o600)
                #expect(try Self.mode(paths.certificate) == 0o644)
                #expect(try PEMFile.privateKey(atPath: paths.key).publicKey == issued.certificate.publicKey)
                #expect(try PEMFile.certificates(atPath: paths.chain) == [issued.certificate, ca.intermediate])
                let check = try OpenSSLTool.run(
                    ["verify", "-CAfile", ca.rootCertificatePath, "-untrusted", paths.chain, "-purpose", purpose, paths.certificate])
                #expect(check.status == 0, "\(role): \(check.output)")
            }
        }
    }
}
