import Foundation
import IconTestSupport
import Testing

/// `icon publish` as a user runs it: the built `.build/debug/icon` as a real process, the
/// commands of the README, the exit status and the one line on standard error.
@Suite struct PublishBinaryTests {
    /// `.build/debug/icon` of this checkout (built by `swift build` / `swift test`).
    static var binary: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug/icon").path
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// Runs `icon <arguments>` with output captured in files (no pipe can fill up).
    static func icon(_ arguments: [String], in dir: TemporaryDirectory) throws -> Run {
        let out = dir.join("stdout"), err = dir.join("stderr")
        for path in [out, err] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ICON_LOG_LEVEL"] = nil
        process.environment = environment
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: try String(contentsOfFile: out, encoding: .utf8), stderr: try String(contentsOfFile: err, encoding: .utf8))
    }

    static func files(_ directory: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            result[name] = name.hasSuffix(".iso") ? Data() : try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
        }
        return result
    }

    @Test func deviceCertificateIsRefusedAndTheLiveManifestStays() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build icon first: swift build (missing \(Self.binary))")
        try await withTemporaryDirectory { dir in
            let ca = dir.join("etc/ca"), etc = dir.join("etc"), robot = dir.join("srv/images/robot")
            let setup = [
                ["pki", "init", ca, "--name", "Example Fleet", "--organization", "Example Robotics"],
                ["pki", "issue", "--ca-dir", ca, "--role", "signer", "--name", "Image Signer", "--out", "\(etc)/signer"],
                ["pki", "issue", "--ca-dir", ca, "--role", "device", "--name", "robot-17", "--dns", "robot-17", "--out", "\(etc)/robot-17"],
            ]
            for arguments in setup {
                let run = try Self.icon(arguments, in: dir)
                try #require(run.status == 0, "icon \(arguments.joined(separator: " ")): \(run.stderr)")
            }
            try ManifestCommandsTests.copyDemoImages(into: robot)
            let publish = ["publish", "--image-dir", robot, "--other-cert", "\(ca)/intermediate.cert.pem", "--max-images", "1"]
            // The first publish, as the README shows it, keeps all images.
            let good = try Self.icon(
                ["publish", "--image-dir", robot, "--cert", "\(etc)/signer.cert.pem", "--key", "\(etc)/signer.key.pem",
                 "--other-cert", "\(ca)/intermediate.cert.pem"], in: dir)
            try #require(good.status == 0, "\(good.stderr)")
            #expect(good.stderr.isEmpty)
            #expect(good.stdout.contains("3 image(s), verified against \(ca)/root.cert.pem"), "\(good.stdout)")
            let before = try Self.files(robot)

            let refused = try Self.icon(publish + ["--cert", "\(etc)/robot-17.cert.pem", "--key", "\(etc)/robot-17.key.pem"], in: dir)
            #expect(refused.status == 1)
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
            #expect(refused.stderr.hasPrefix("icon: untrusted: --cert \(etc)/robot-17.cert.pem is a device certificate"), "\(refused.stderr)")
            #expect(refused.stderr.contains("`icon pki issue --role signer`"))
            #expect(try Self.files(robot) == before, "the live manifest or an ISO changed")

            // A misnamed ISO beside the images: published, with one warning line.
            try FileManager.default.copyItem(atPath: "\(robot)/1459629471.iso", toPath: "\(robot)/robot-v1.iso")
            let warned = try Self.icon(
                ["publish", "--image-dir", robot, "--cert", "\(etc)/signer.cert.pem", "--key", "\(etc)/signer.key.pem",
                 "--other-cert", "\(ca)/intermediate.cert.pem"], in: dir)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(warned.stderrLines == ["icon: warning: skipped \(robot)/robot-v1.iso: the name must be <digits>.iso (a Unix timestamp in seconds), rename it to <unix-timestamp>.iso"])

            // The parent directory: refused, pointing at the image type, nothing written there.
            let parent = try Self.icon(
                ["publish", "--image-dir", dir.join("srv/images"), "--cert", "\(etc)/signer.cert.pem", "--key", "\(etc)/signer.key.pem",
                 "--other-cert", "\(ca)/intermediate.cert.pem"], in: dir)
            #expect(parent.status == 1)
            #expect(parent.stderrLines.count == 1)
            #expect(parent.stderr.contains("did you mean --image-dir \(robot)?"), "\(parent.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.join("srv/images")) == ["robot"])

            // verify-manifest given the unsigned manifest says so in one line.
            let unsigned = try Self.icon(["verify-manifest", "--ca-cert", "\(ca)/root.cert.pem", "\(robot)/manifest.json.unsigned"], in: dir)
            #expect(unsigned.status == 1)
            #expect(unsigned.stderrLines == [
                "icon: malformed: \(robot)/manifest.json.unsigned: this is the unsigned manifest; pass manifest.json (\(robot)/manifest.json)"
            ])
        }
    }
}
