import Foundation
import Glibc
import IconCore
import IconTestSupport
import Testing


#if canImport(Glibc)
#endif

/// `icon fetch` as a real process, stopped by SIGINT or SIGTERM in the middle of a download:
/// one line, exit status 1, the partial download removed, nothing else changed.
@Suite("icon fetch interrupted")
struct FetchInterruptProcessTests {
    /// `.build/<triple>/debug/icon`, beside the test bundle.
    static var iconPath: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("icon").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return FileManager.default.currentDirectoryPath + "/.build/debug/icon"
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalEndsTheFetchCleanly(signalNumber: Int32) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.iconPath), "no icon binary: run swift build --build-tests")
        try await FetchEnvironment.with { env in
            try env.makeImage(100)
            try env.publish(manifestTimestamp: 1000)
            try await TestImageHost.withTruncating(root: env.serverDir, pki: env.pki) { port in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: Self.iconPath)
                process.arguments = [
                    "fetch", "--base-url", "https://127.0.0.1:\(port)/trickle/demo", "--ca-cert", env.pki.root.certPath,
                    "--image-dir", env.deviceDir, "--boot-dir", env.bootDir, "--https-ca-cert", env.pki.root.certPath,
                    "--https-client-cert", env.temp.join("device-chain.pem"), "--https-client-key", env.pki.device.keyPath,
                    "--hostname", "device-1", "--running-image-file", env.runningFile, "--quiet",
                    "--connect-timeout", String(Int(FetchEnvironment.loopbackConnectTimeout / .seconds(1))),
                ]
                let errors = Pipe()
                process.standardError = errors
                process.standardOutput = FileHandle.nullDevice
                process.standardInput = FileHandle.nullDevice
                try process.run()
                // The trickle takes an hour: wait for its partial file, then signal.
                let deadline = ContinuousClock.now + FetchEnvironment.loopbackConnectTimeout * 2
                while FetchBoundsTests.leftovers(env).isEmpty, process.isRunning, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(FetchBoundsTests.leftovers(env).count == 1)
                kill(process.processIdentifier, signalNumber)
                let exitDeadline = ContinuousClock.now + FetchEnvironment.loopbackConnectTimeout
                while process.isRunning, ContinuousClock.now < exitDeadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                if process.isRunning {
                    Issue.record("icon fetch still ran after the signal")
                    kill(process.processIdentifier, SIGKILL)
                }
                process.waitUntilExit()
                let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(process.terminationReason == .exit)
                #expect(process.terminationStatus == 1)
                #expect(text == "icon: interrupted: fetch was interrupted: any partial download was removed, and current, manifest.json and the boot menu of \(env.deviceDir) are as they were\n")
                #expect(FetchBoundsTests.leftovers(env).isEmpty)
                #expect(env.snapshot().isEmpty)
            }
        }
    }
}
