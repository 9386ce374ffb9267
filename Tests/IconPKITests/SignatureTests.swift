import Crypto
import Foundation
import IconCore
import IconTestSupport
import Testing
import _CryptoExtras

@testable import IconPKI
import X509

@Suite struct SignatureTests {
    static let keys: [String] = ["p256", "p384", "rsa"]

    static func makeKey(_ name: String) throws -> Certificate.PrivateKey {
        switch name {
        case "p256": Certificate.PrivateKey(P256.Signing.PrivateKey())
        case "p384": Certificate.PrivateKey(P384.Signing.PrivateKey())
        default: Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }

    @Test(arguments: keys)
    func signsAndVerifiesAndCatchesTampering(algorithm: String) throws {
        let key = try SigningKey(Self.makeKey(algorithm))
        let message = Array("{\"rollout\": 2500}".utf8)
        let signature = try key.sign(message)
        #expect(SignatureCheck.isValid(signature, over: message, publicKey: key.publicKey))

        var tamperedMessage = message
        tamperedMessage[3] ^= 0x01
        #expect(!SignatureCheck.isValid(signature, over: tamperedMessage, publicKey: key.publicKey))

        var tamperedSignature = signature
        tamperedSignature[tamperedSignature.count / 2] ^= 0x01
        #expect(!SignatureCheck.isValid(tamperedSignature, over: message, publicKey: key.publicKey))

        let other = try SigningKey(Self.makeKey(algorithm))
        #expect(!SignatureCheck.isValid(signature, over: message, publicKey: other.publicKey))
        #expect(!SignatureCheck.isValid([], over: message, publicKey: key.publicKey))
    }

    @Test func signsWithTheCompatKeysForTheirCertificates() throws {
        for name in ["signing", "rsa-signing"] {
            let key = try SigningKey(path: CompatVectors.path("pki/\(name).key.pem"))
            let certificate = try #require(try PEMFile.certificates(atPath: CompatVectors.path("pki/\(name).cert.pem")).first)
            let signature = try key.sign(Array("inner".utf8))
            #expect(SignatureCheck.isValid(signature, over: Array("inner".utf8), publicKey: certificate.publicKey))
        }
    }

    @Test func anECSignatureDoesNotVerifyUnderAnRSAKey() throws {
        let ec = try SigningKey(Self.makeKey("p256"))
        let rsa = try SigningKey(Self.makeKey("rsa"))
        let signature = try ec.sign([1, 2, 3])
        #expect(!SignatureCheck.isValid(signature, over: [1, 2, 3], publicKey: rsa.publicKey))
    }
}
