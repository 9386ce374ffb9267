import Foundation
import IconCore
@testable import IconManifest
import IconTestSupport
import Testing

@testable import IconCommands
import ArgumentParser

/// `icon publish` and `icon rollout` refuse what machines would reject, naming the flag that
/// fixes it, and leave the live manifests and the ISOs exactly as they were.
///
/// The PKI is made by `icon pki init` and `icon pki issue` (run in process), in the layout
/// of the README: the CA in `etc/ca/`, leaves in `etc/`.
@Suite struct PublishRefusalTests {
    /// A newcomer's machine: a CA, a signer and a device certificate, and a published
    /// image directory `srv/images/robot` (the layout `icon build-image` writes).
    struct Site {
        let dir: TemporaryDirectory
        var etc: String { dir.join("etc") }
        var ca: String { dir.join("etc/ca") }
        var intermediate: String { "\(ca)/intermediate.cert.pem" }
        var root: String { "\(ca)/root.cert.pem" }
        var images: String { dir.join("srv/images") }
        var robot: String { dir.join("srv/images/robot") }
        func cert(_ name: String) -> String { "\(etc)/\(name).cert.pem" }
        func key(_ name: String) -> String { "\(etc)/\(name).key.pem" }
        func flags(_ name: String, other: Bool = true) -> [String] {
            ["--cert", cert(name), "--key", key(name)] + (other ? ["--other-cert", intermediate] : [])
        }

        /// Makes the CA and certificates, copies the demo ISOs and publishes them once.
        static func make(_ dir: TemporaryDirectory) async throws -> Site {
            let site = Site(dir: dir)
            try await PKIInit.parse([site.ca, "--name", "Example Fleet"]).run()
            try await PKIIssue.parse(["--ca-dir", site.ca, "--role", "signer", "--name", "Image Signer", "--out", "\(site.etc)/signer"]).run()
            try await PKIIssue.parse([
                "--ca-dir", site.ca, "--role", "device", "--name", "robot-17", "--dns", "robot-17", "--out", "\(site.etc)/robot-17",
            ]).run()
            try ManifestCommandsTests.copyDemoImages(into: site.robot)
            try await ManifestPublish.parse(["--image-dir", site.robot, "--default-rollout", "2500"] + site.flags("signer")).run()
            return site
        }

        /// The manifests' bytes and the ISO names of `directory`.
        func snapshot(_ directory: String) throws -> [String: Data] {
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: "\(directory)/\(name)", isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else { continue }
                files[name] = name.hasSuffix(".iso") ? Data() : try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
            }
            return files
        }
    }

    /// Runs the parsed command, which must fail with `code`; checks that `directory` is
    /// unchanged (both manifests byte-identical, no ISO deleted) and returns the message.
    static func refusal(
        _ site: Site, _ arguments: [String], rollout: Bool = false, code: IconError.Code, in directory: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let directory = directory ?? site.robot
        let before = try site.snapshot(directory)
        #expect(before["manifest.json"] != nil && before["manifest.json.unsigned"] != nil, sourceLocation: sourceLocation)
        let error = try await #require(throws: IconError.self, sourceLocation: sourceLocation) {
            if rollout {
                try await ManifestRollout.parse(arguments).run()
            } else {
                try await ManifestPublish.parse(arguments).run()
            }
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        #expect(try site.snapshot(directory) == before, "the directory changed", sourceLocation: sourceLocation)
        return error.message
    }

    @Test func deviceCertificateIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            for rollout in [false, true] {
                let command = rollout
                    ? ["--image-dir", site.robot, "--timestamp", "1459629717", "--rollout", "10000"]
                    : ["--image-dir", site.robot, "--max-images", "1"]
                let message = try await Self.refusal(site, command + site.flags("robot-17"), rollout: rollout, code: .untrusted)
                #expect(message.hasPrefix("--cert \(site.cert("robot-17")) is a device certificate"), "\(message)")
                #expect(message.contains("`icon pki issue --role signer`"))
            }
        }
    }

    @Test func missingIntermediateNamesTheFileToAdd() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            for rollout in [false, true] {
                let command = rollout
                    ? ["--image-dir", site.robot, "--timestamp", "1459629717", "--rollout", "10000"]
                    : ["--image-dir", site.robot, "--max-images", "1"]
                let message = try await Self.refusal(
                    site, command + site.flags("signer", other: false), rollout: rollout, code: .untrusted)
                #expect(message.contains("the chain of --cert \(site.cert("signer")) is incomplete"), "\(message)")
                #expect(message.contains("Example Fleet Intermediate CA"))
                #expect(message.hasSuffix("add --other-cert \(site.intermediate)"))
            }
            // The chain file `icon pki issue` writes holds the intermediate: no --other-cert needed.
            try await ManifestPublish.parse(
                ["--image-dir", site.robot, "--cert", "\(site.etc)/signer.chain.pem", "--key", site.key("signer")]).run()
        }
    }

    @Test func noCAFoundAsksForCACert() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let keys = dir.join("keys")
            try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
            for name in ["signer.cert.pem", "signer.key.pem", "intermediate.cert.pem"] {
                let source = name.hasPrefix("signer") ? "\(site.etc)/\(name)" : site.intermediate
                try FileManager.default.copyItem(atPath: source, toPath: "\(keys)/\(name)")
            }
            try FileManager.default.createDirectory(atPath: dir.join("chain"), withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: "\(keys)/intermediate.cert.pem", toPath: dir.join("chain/intermediate.cert.pem"))
            let signer = ["--cert", "\(keys)/signer.cert.pem", "--key", "\(keys)/signer.key.pem", "--other-cert", dir.join("chain/intermediate.cert.pem")]
            for rollout in [false, true] {
                let command = rollout
                    ? ["--image-dir", site.robot, "--timestamp", "1459629717", "--rollout", "10000"]
                    : ["--image-dir", site.robot, "--max-images", "1"]
                let message = try await Self.refusal(site, command + signer, rollout: rollout, code: .notFound)
                #expect(message.hasSuffix("pass --ca-cert <root.cert.pem> (the one the machines trust)"), "\(message)")
            }
            // With --ca-cert it publishes.
            try await ManifestPublish.parse(["--image-dir", site.robot, "--ca-cert", site.root] + signer).run()
        }
    }

    @Test func otherRootIsRefusedNamingIt() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let other = CompatVectors.path("pki/other-root.cert.pem")
            let message = try await Self.refusal(
                site, ["--image-dir", site.robot, "--ca-cert", other] + site.flags("signer"), code: .untrusted)
            #expect(message.contains("which is not a root in \(other)"), "\(message)")
            #expect(message.hasSuffix("pass --ca-cert with the root the machines trust"))
        }
    }

    @Test func emptyDirectoryIsRefusedAndGetsNoManifest() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let empty = site.images + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let error = try await #require(throws: IconError.self) {
                try await ManifestPublish.parse(["--image-dir", empty] + site.flags("signer")).run()
            }
            #expect(error.code == .notFound)
            #expect(error.message.hasPrefix("no images to publish in \(empty)"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
            // The directory is checked before the signer: a wrong --image-dir is named first.
            let missing = try await #require(throws: IconError.self) {
                try await ManifestPublish.parse(["--image-dir", site.images + "/nope"] + site.flags("robot-17", other: false)).run()
            }
            #expect(missing.code == .notFound)
            #expect(missing.message == "image directory \(site.images)/nope does not exist")
        }
    }

    @Test func misnamedImageIsRefusedWithTheRename() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let kiosk = site.images + "/kiosk"
            try FileManager.default.createDirectory(atPath: kiosk, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(site.robot)/1459629471.iso", toPath: "\(kiosk)/robot-v1.iso")
            let error = try await #require(throws: IconError.self) {
                try await ManifestPublish.parse(["--image-dir", kiosk] + site.flags("signer")).run()
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("skipped robot-v1.iso"), "\(error)")
            #expect(error.message.contains("rename robot-v1.iso to <unix-timestamp>.iso"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: kiosk) == ["robot-v1.iso"])
        }
    }

    @Test func parentDirectoryIsRefusedPointingAtTheImageType() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let robotBefore = try site.snapshot(site.robot)
            let error = try await #require(throws: IconError.self) {
                try await ManifestPublish.parse(["--image-dir", site.images] + site.flags("signer")).run()
            }
            #expect(error.code == .notFound)
            #expect(error.message.contains("did you mean --image-dir \(site.robot)?"), "\(error)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: site.images) == ["robot"])
            #expect(try site.snapshot(site.robot) == robotBefore)
        }
    }

    @Test func misnamedFileBesideImagesIsSkippedWithAWarning() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            try FileManager.default.copyItem(atPath: "\(site.robot)/1459629471.iso", toPath: "\(site.robot)/robot-v1.iso")
            let result = try await Publisher.publish(
                imageDir: site.robot, certPath: site.cert("signer"), keyPath: site.key("signer"),
                otherCertPaths: [site.intermediate], now: Date())
            #expect(result.manifest.images.map(\.timestamp) == [1_700_000_000, 1_459_629_717, 1_459_629_471])
            #expect(ManifestPublish.warnings(result) == [
                "warning: skipped \(site.robot)/robot-v1.iso: the name must be <digits>.iso (a Unix timestamp in seconds), "
                    + "rename it to <unix-timestamp>.iso"
            ])
            #expect(FileManager.default.fileExists(atPath: "\(site.robot)/robot-v1.iso"))
            let report = ManifestPublish.report(result)
            #expect(report.dropLast().last?.hasSuffix("3 image(s), verified against \(site.root)") == true)
            #expect(report.last == "never expires")
            // The command publishes too (its warning goes to standard error).
            try await ManifestPublish.parse(["--image-dir", site.robot] + site.flags("signer")).run()
        }
    }

    @Test func verifyManifestNamesTheUnsignedManifest() async throws {
        try await withTemporaryDirectory { dir in
            let site = try await Site.make(dir)
            let unsigned = "\(site.robot)/manifest.json.unsigned"
            let error = try await #require(throws: IconError.self) {
                try await ManifestVerify.parse(["--ca-cert", site.root, unsigned]).run()
            }
            #expect(error.code == .malformed)
            #expect(error.description == "malformed: \(unsigned): this is the unsigned manifest; pass manifest.json (\(site.robot)/manifest.json)")
        }
    }
}
