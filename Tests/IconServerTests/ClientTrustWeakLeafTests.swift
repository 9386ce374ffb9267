import AsyncHTTPClient
import Foundation
@testable import IconServer
import IconTestSupport
import Testing

/// A client certificate with an RSA key under 2048 bits, or a CA certificate presented as a
/// leaf, fails the image server's handshake; the same certificate done right passes.
@Suite struct ClientTrustWeakLeafTests {
    @Test(.requiresExecutable("openssl", package: "openssl"))
    func weakKeysAndCALeavesFailTheHandshake() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let pki = fixture.pki
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        let leafExtensions = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
        let weak = try OpenSSLLeaf(pki: pki, name: "weak", file: "weak", newKey: ["-newkey", "rsa:1024"], extensions: leafExtensions)
        let authority = try OpenSSLLeaf(
            pki: pki, name: "authority", file: "authority", newKey: ec,
            extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=clientAuth\n")
        let good = try OpenSSLLeaf(pki: pki, name: "good", file: "good", newKey: ec, extensions: leafExtensions)
        let strongRSA = try OpenSSLLeaf(pki: pki, name: "rsa", file: "rsa", newKey: ["-newkey", "rsa:2048"], extensions: leafExtensions)
        try await fixture.withServer { port in
            let url = "https://localhost:\(port)/image/demo/blob.bin"
            for refused in [weak, authority] {
                try await fixture.withClient(tls: try refused.clientTLS(pki)) { (client: HTTPClient) async throws in
                    await #expect(throws: (any Error).self) { try await client.fetch(url) }
                }
            }
            for accepted in [good, strongRSA] {
                try await fixture.withClient(tls: try accepted.clientTLS(pki)) { (client: HTTPClient) async throws in
                    #expect(try await client.fetch(url).status == 200)
                }
            }
        }
        let log = fixture.log.messages
        #expect(log.contains { $0.contains("tls: refused a client certificate that does not parse") })
        #expect(log.contains { $0.contains("tls: refused client certificate") && $0.contains("CN=authority,O=Iconograph Test is a CA certificate") })
    }
}
