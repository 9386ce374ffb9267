import Foundation
import IconCore
import IconServer
import IconTestSupport
import Testing

/// Bad settings and files fail in `ImageServer.init`, before anything listens.
@Suite struct ImageServerSetupTests {
    @Test func missingCertificateFileIsNamed() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.certificateChainPath = fixture.directory.join("nope.pem")
        let error = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(error.code == .notFound)
        #expect(error.message.contains("--cert"))
        #expect(error.message.contains("nope.pem"))
    }

    @Test func garbageKeyIsBadKey() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let garbage = fixture.directory.join("garbage.pem")
        try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: garbage))
        var configuration = try fixture.configuration()
        configuration.privateKeyPath = garbage
        let error = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(error.code == .badKey)
        #expect(error.message.contains("--key"))
        #expect(error.message.contains("garbage.pem"))

        configuration = try fixture.configuration()
        configuration.clientCAPath = garbage
        let caError = try #require(throws: IconError.self) { try ImageServer(configuration: configuration) }
        #expect(caError.code == .badKey)
        #expect(caError.message.contains("--client-ca-cert"))
    }

    @Test func missingImagePathAndBadTypes() throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.imagePath = fixture.directory.join("missing")
        #expect(Self.code { try ImageServer(configuration: configuration) } == .notFound)
        for types in [[], ["../demo"], [".hidden"], ["a/b"]] {
            configuration = try fixture.configuration()
            configuration.imageTypes = types
            #expect(Self.code { try ImageServer(configuration: configuration) } == .invalidArgument, "\(types)")
        }
        configuration = try fixture.configuration()
        configuration.port = 70000
        #expect(Self.code { try ImageServer(configuration: configuration) } == .invalidArgument)
    }

    /// The code of the `IconError` that `body` throws, or `nil` when it succeeds or throws something else.
    static func code(_ body: () throws -> Any) -> IconError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? IconError)?.code
        }
    }
}
