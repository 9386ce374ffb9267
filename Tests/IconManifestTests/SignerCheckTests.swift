import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest
import X509

/// Where publish finds the machines' roots, and the one-line refusals of a signer machines
/// would reject, each naming the file and the flag that fixes it.
@Suite struct SignerCheckTests {
    static func signer(_ cert: String, _ key: String, other: [String] = []) throws -> ManifestSigner {
        try ManifestSigner(certPath: cert, keyPath: key, otherCertPaths: other)
    }

    /// The refusal of `signer` against `trust`, which must be `.untrusted` on one line.
    static func refusal(
        _ signer: ManifestSigner, _ trust: SignerTrust, now: Date = Date(), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let error = try await #require(throws: IconError.self, sourceLocation: sourceLocation) {
            try await SignerCheck.check(signer, against: trust, now: now)
        }
        #expect(error.code == .untrusted, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        return error.message
    }

    @Test func rootIsFoundWhereANewcomerHasIt() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try SignerLayout(pki: TestPKI(directory: dir.join("pki")), base: dir.join("etc"))
            // Beside --other-cert: ca/intermediate.cert.pem sits beside ca/root.cert.pem.
            let byOther = try SignerTrust.locate(caCertPath: nil, certPath: layout.cert("signer"), otherCertPaths: [layout.intermediate])
            #expect(byOther.rootsPath == layout.root)
            #expect(byOther.foundByLookup)
            // In ca/ beside --cert.
            let byCert = try SignerTrust.locate(caCertPath: nil, certPath: layout.cert("signer"), otherCertPaths: [])
            #expect(byCert.rootsPath == layout.root)
            // Beside --cert (TestPKI keeps everything in one directory).
            let flat = try SignerTrust.locate(caCertPath: nil, certPath: layout.pki.signer.certPath, otherCertPaths: [])
            #expect(flat.rootsPath == layout.pki.root.certPath)
            // --ca-cert wins over any lookup.
            let other = CompatVectors.path("pki/other-root.cert.pem")
            let given = try SignerTrust.locate(caCertPath: other, certPath: layout.cert("signer"), otherCertPaths: [layout.intermediate])
            #expect(given.rootsPath == other)
            #expect(!given.foundByLookup)
            #expect(
                SignerTrust.candidates(certPath: "/etc/icon/signer.cert.pem", otherCertPaths: ["/etc/icon/ca/intermediate.cert.pem"])
                    == ["/etc/icon/ca/root.cert.pem", "/etc/icon/root.cert.pem"])
            #expect(
                SignerTrust.candidates(certPath: "/etc/icon/signer.cert.pem", otherCertPaths: ["/opt/chain/intermediate.pem"])
                    == ["/opt/chain/root.cert.pem", "/etc/icon/root.cert.pem", "/etc/icon/ca/root.cert.pem"])
            #expect(SignerTrust.candidates(certPath: "signer.cert.pem", otherCertPaths: []) == ["root.cert.pem", "ca/root.cert.pem"])
        }
    }

    @Test func noRootFoundAsksForCACert() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let keys = dir.join("keys")
            let chain = dir.join("chain")
            for path in [keys, chain] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            try FileManager.default.copyItem(atPath: pki.signer.certPath, toPath: "\(keys)/signer.cert.pem")
            try FileManager.default.copyItem(atPath: pki.intermediate.certPath, toPath: "\(chain)/intermediate.cert.pem")
            let error = try #require(throws: IconError.self) {
                try SignerTrust.locate(caCertPath: nil, certPath: "\(keys)/signer.cert.pem", otherCertPaths: ["\(chain)/intermediate.cert.pem"])
            }
            #expect(error.code == .notFound)
            #expect(error.message.contains("pass --ca-cert <root.cert.pem> (the one the machines trust)"))
            #expect(error.message.contains("\(chain)/root.cert.pem"))
            #expect(error.message.contains("\(keys)/ca/root.cert.pem"))
        }
    }

    @Test func goodSignersPass() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let trust = try SignerTrust(rootsPath: pki.root.certPath)
            try await SignerCheck.check(
                Self.signer(pki.signer.certPath, pki.signer.keyPath, other: [pki.chainPath]), against: trust, now: Date())
            // The original's signing certificate (its own extensions) passes exactly as machines take it.
            let compat = CompatVectors.path("pki")
            try await SignerCheck.check(
                Self.signer("\(compat)/signing.cert.pem", "\(compat)/signing.key.pem", other: ["\(compat)/intermediate.cert.pem"]),
                against: SignerTrust(rootsPath: "\(compat)/root.cert.pem"), now: Date())
        }
    }

    @Test func otherRolesAreRefusedNamingTheRoleAndTheIssueCommand() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let trust = try SignerTrust(rootsPath: pki.root.certPath)
            let operatorIdentity = try pki.issueLeaf(
                name: "Alice Operator", file: "operator", usages: [.clientAuth, .init(oid: IconOID.operatorRole)])
            let device = try pki.issueLeaf(name: "robot-17", file: "robot-17", usages: [.clientAuth, .init(oid: IconOID.deviceRole)])
            let cases: [(TestPKI.Identity, String)] = [
                (device, "is a device certificate"), (pki.server, "is a server certificate"),
                (operatorIdentity, "is an operator certificate"), (pki.intermediate, "is a CA certificate"),
            ]
            for (identity, kind) in cases {
                let message = try await Self.refusal(
                    Self.signer(identity.certPath, identity.keyPath, other: [pki.chainPath]), trust)
                #expect(message.hasPrefix("--cert \(identity.certPath) \(kind) (\(identity.certificate.subject))"), "\(message)")
                #expect(message.contains("not a manifest signer"))
                #expect(message.contains("`icon pki issue --role signer`"))
            }
        }
    }

    @Test func missingIntermediateNamesTheIssuerAndTheFile() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try SignerLayout(pki: TestPKI(directory: dir.join("pki")), base: dir.join("etc"))
            let signer = try Self.signer(layout.cert("signer"), layout.key("signer"))
            let found = try SignerTrust.locate(caCertPath: nil, certPath: layout.cert("signer"), otherCertPaths: [])
            let message = try await Self.refusal(signer, found)
            #expect(message.contains("the chain of --cert \(layout.cert("signer")) is incomplete"), "\(message)")
            #expect(message.contains("its issuer \(layout.pki.intermediate.certificate.subject)"))
            #expect(message.hasSuffix("add --other-cert \(layout.intermediate)"))
            // Roots given elsewhere, no intermediate beside them or the signer: the layout to look for.
            let alone = dir.join("alone")
            try FileManager.default.createDirectory(atPath: alone, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: layout.root, toPath: "\(alone)/fleet-root.pem")
            try FileManager.default.removeItem(atPath: layout.intermediate)
            let given = try SignerTrust.locate(caCertPath: "\(alone)/fleet-root.pem", certPath: layout.cert("signer"), otherCertPaths: [])
            let generic = try await Self.refusal(signer, given)
            #expect(generic.contains("add --other-cert <ca-dir>/intermediate.cert.pem"), "\(generic)")
        }
    }

    @Test func expiredSignerNamesTheFile() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let now = Date()
            let old = try pki.issueLeaf(
                name: "Old Signer", file: "old-signer", usages: [.codeSigning],
                notValidBefore: now.addingTimeInterval(-2 * 86400), notValidAfter: now.addingTimeInterval(-86400))
            let message = try await Self.refusal(
                Self.signer(old.certPath, old.keyPath, other: [pki.chainPath]), SignerTrust(rootsPath: pki.root.certPath), now: now)
            #expect(message.hasPrefix("--cert \(old.certPath): the signer certificate"), "\(message)")
            #expect(message.contains("expired at"))
        }
    }

    @Test func otherRootsAreRefusedNamingTheRootsFile() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let signer = try Self.signer(pki.signer.certPath, pki.signer.keyPath, other: [pki.chainPath])
            // Another TestPKI: a root of the same name but another key.
            let twin = try TestPKI(directory: dir.join("twin"))
            let sameName = try await Self.refusal(signer, SignerTrust(rootsPath: twin.root.certPath))
            #expect(sameName.contains("the root of that name in \(twin.root.certPath) did not sign it"), "\(sameName)")
            #expect(sameName.hasSuffix("pass --ca-cert with the root the machines trust"))
            // An unrelated CA.
            let other = CompatVectors.path("pki/other-root.cert.pem")
            let unrelated = try await Self.refusal(signer, SignerTrust(rootsPath: other))
            #expect(unrelated.hasPrefix("\(pki.chainPath): the chain of the signer ends at"), "\(unrelated)")
            #expect(unrelated.contains("which is not a root in \(other)"))
            #expect(unrelated.hasSuffix("pass --ca-cert with the root the machines trust"))
        }
    }
}
