import Foundation
import IconCore
@testable import IconManifest
import IconTestSupport
import Testing

@testable import IconCommands
import ArgumentParser

@Suite struct ManifestCommandsTests {
    static let demo = CompatVectors.path("images/demo")

    static func copyDemoImages(into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["1459629471.iso", "1459629717.iso", "1700000000.iso"] {
            try FileManager.default.copyItem(atPath: "\(demo)/\(name)", toPath: "\(directory)/\(name)")
        }
    }

    @Test func publishRolloutAndVerify() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let images = dir.join("images")
            try Self.copyDemoImages(into: images)
            let signerFlags = ["--cert", pki.signer.certPath, "--key", pki.signer.keyPath, "--other-cert", pki.chainPath]
            let publish = try ManifestPublish.parse(["--image-dir", images, "--default-rollout", "2500"] + signerFlags)
            #expect(publish.defaultRollout == 2500)
            #expect(publish.maxImages == 0)
            #expect(publish.signer.otherCerts == [pki.chainPath])
            try await publish.run()
            try await ManifestRollout.parse(["--image-dir", images, "--timestamp", "1459629717", "--rollout", "10000"] + signerFlags).run()
            let unsigned = try Manifest.decode(Data(contentsOf: URL(fileURLWithPath: "\(images)/manifest.json.unsigned")), source: "u")
            #expect(unsigned.images.map(\.rollout) == [2500, 10_000, 2500])
            try await ManifestVerify.parse(["--ca-cert", pki.root.certPath, "--hostname", "vm", "\(images)/manifest.json"]).run()
            let error = try await #require(throws: IconError.self) {
                try await ManifestVerify.parse(["--ca-cert", CompatVectors.path("pki/root.cert.pem"), "\(images)/manifest.json"]).run()
            }
            #expect(error.code == .untrusted)
            #expect(error.message.contains("\(images)/manifest.json"))
        }
    }

    @Test func publishReportSaysHashedOrKept() {
        let image = ManifestImage(timestamp: 5, hash: "h", volumeID: "V\u{1b}[2J", rollout: 10)
        let old = ManifestImage(timestamp: 4, hash: "h", volumeID: "W", rollout: 20)
        let result = Publisher.Result(
            manifest: Manifest(timestamp: 99, images: [image, old]), sources: [5: .hashed, 4: .kept], deleted: ["/i/1.iso"],
            skipped: [ImageScan.Skipped(path: "/i/v\u{1b}1.iso", reason: ImageScan.misnamedReason)], rootsPath: "/ca/root.cert.pem")
        #expect(ManifestPublish.report(result) == [
            "5.iso  volume \"V?[2J\"  rollout 10‱  hashed",
            "4.iso  volume \"W\"  rollout 20‱  kept",
            "deleted /i/1.iso",
            "manifest timestamp 99, 2 image(s), verified against /ca/root.cert.pem",
            "never expires",
        ])
        #expect(ManifestPublish.warnings(result) == ["warning: skipped /i/v?1.iso: \(ImageScan.misnamedReason)"])
    }

    @Test func publishWithMissingKeyNamesIt() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            try Self.copyDemoImages(into: dir.join("images"))
            let command = try ManifestPublish.parse([
                "--image-dir", dir.join("images"), "--cert", pki.signer.certPath, "--key", dir.join("nope.pem"),
            ])
            let error = try await #require(throws: IconError.self) { try await command.run() }
            #expect(error.code == .notFound)
            #expect(error.message.contains(dir.join("nope.pem")))
            #expect(!FileManager.default.fileExists(atPath: dir.join("images/manifest.json")))
        }
    }

    @Test func verifyReportShowsTheChoice() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.demo)/manifest.json.unsigned"))
        let manifest = try Manifest.decode(data, source: "compat")
        let lines = ManifestVerify.report(manifest, signer: "CN=x", hostname: "vm")
        // vm's values: 1700000000 -> 5906, 1459629717 -> 7020, 1459629471 -> 1371; all at 2500.
        #expect(lines.count == 6)
        #expect(lines[1] == "never expires")
        #expect(lines[2].contains("vm=5906 excludes"))
        #expect(lines[3].contains("vm=7020 excludes"))
        #expect(lines[4].contains("vm=1371 admits"))
        #expect(lines[5] == "vm would choose 1459629471.iso")
    }

    @Test func verifyReportShowsTheExpiryAndLeavesImagesBelowTheFloorOut() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.demo)/manifest.json.unsigned"))
        var manifest = try Manifest.decode(data, source: "compat")
        // Only the oldest image admits vm, and it is below the floor.
        manifest.images = manifest.images.map { image in
            var image = image
            image.rollout = image.timestamp == 1_459_629_471 ? 10_000 : 0
            return image
        }
        manifest.expires = 1_798_675_200
        manifest.minTimestamp = 1_459_629_717
        let lines = ManifestVerify.report(manifest, signer: "CN=x", hostname: "vm")
        #expect(lines[1] == "expires 2026-12-31T00:00:00Z (1798675200); version floor 1459629717")
        #expect(lines[2].contains("1700000000.iso") && lines[2].contains("vm=5906 excludes"))
        #expect(lines[4].contains("1459629471.iso") && lines[4].contains("vm=1371 below the floor"))
        #expect(lines[5] == "vm would choose no image")
    }

    @Test(arguments: [("manifest.tampered.json", "root.cert.pem", IconError.Code.badSignature), ("manifest.json", "other-root.cert.pem", .untrusted)])
    func verifyRejectsWithTheRightCode(file: String, root: String, code: IconError.Code) async throws {
        let command = try ManifestVerify.parse(["--ca-cert", CompatVectors.path("pki/\(root)"), "\(Self.demo)/\(file)"])
        let error = try await #require(throws: IconError.self) { try await command.run() }
        #expect(error.code == code)
    }

    @Test func verifyAcceptsTheOriginalsManifest() async throws {
        try await ManifestVerify.parse(["--ca-cert", CompatVectors.path("pki/root.cert.pem"), "\(Self.demo)/manifest.rsa.json"]).run()
    }

    @Test func helpDescribesEveryFlag() {
        let publish = ManifestPublish.helpMessage()
        for flag in ["--image-dir <dir>", "--cert <file>", "--key <file>", "--other-cert <file>", "--ca-cert <file>", "--default-rollout <n>", "--max-images <n>", "Example"] {
            #expect(publish.contains(flag), "publish help lacks \(flag)")
        }
        let rollout = ManifestRollout.helpMessage()
        for flag in ["--image-dir <dir>", "--timestamp <n>", "--rollout <n>", "--cert <file>", "--key <file>", "--other-cert <file>", "--ca-cert <file>", "Example"] {
            #expect(rollout.contains(flag), "rollout help lacks \(flag)")
        }
        let verify = ManifestVerify.helpMessage()
        for flag in ["--ca-cert", "--hostname", "<manifest>", "Example"] {
            #expect(verify.contains(flag), "verify-manifest help lacks \(flag)")
        }
        let grub = BootUpdateGrub.helpMessage()
        for flag in ["--boot-dir", "--image-dir", "Example"] {
            #expect(grub.contains(flag), "update-grub help lacks \(flag)")
        }
    }

    /// Example lines stay under 76 characters, so an 80-column help never wraps them.
    @Test func helpExamplesAreNeverWrapped() {
        let commands: [(String, String)] = [
            (ManifestPublish.configuration.discussion, ManifestPublish.helpMessage(columns: 80)),
            (ManifestRollout.configuration.discussion, ManifestRollout.helpMessage(columns: 80)),
            (ManifestVerify.configuration.discussion, ManifestVerify.helpMessage(columns: 80)),
        ]
        for (discussion, help) in commands {
            let example = discussion.components(separatedBy: "Example:\n").last ?? ""
            let lines = example.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.count >= 2)
            let helpLines = help.split(separator: "\n").map(String.init)
            for line in lines {
                let shown = helpLines.first { $0.trimmingCharacters(in: .whitespaces) == line }
                #expect(shown != nil, "wrapped in help: \(line)")
                #expect((shown ?? line).count <= 76, "\(line)")
            }
        }
    }

    @Test func rolloutFlagValidation() async throws {
        try await withTemporaryDirectory { dir in
            let pki = try TestPKI(directory: dir.join("pki"))
            let command = try ManifestRollout.parse([
                "--image-dir", dir.path, "--timestamp", "1", "--rollout", "20000", "--cert", pki.signer.certPath, "--key", pki.signer.keyPath,
            ])
            let error = try await #require(throws: IconError.self) { try await command.run() }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("--rollout"))
        }
    }
}
