import Foundation
import IconServer
import IconTestSupport
import Testing

/// File responses stream with backpressure: a client that reads nothing holds a few chunks of
/// the server's memory, not the file. The server is the built `icon server` in its own process,
/// so its resident memory (from /proc/<pid>/status) is not mixed with the tests running beside
/// this one.
@Suite struct FileStreamingMemoryTests {
    static let readers = 20
    static let fileSize = 64 << 20
    /// Well below the 20 x 64 MiB that buffering whole responses would take.
    static let boundMiB = 160
    /// `.build/debug/icon` of this package, built by `swift build --build-tests`.
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/icon").path

    /// The resident memory of process `pid` in MiB, from /proc/<pid>/status.
    static func residentMiB(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib / 1024
    }

    /// Starts `icon server` on port 0 and returns it with the port it printed.
    static func startServer(_ fixture: ServerFixture) throws -> (Process, Int) {
        let chain = try fixture.bundle("server-chain.pem", [fixture.pki.server.certPath, fixture.pki.intermediate.certPath])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "server", "--listen", "127.0.0.1:0", "--image-path", fixture.imagePath, "--image-type", "demo",
            "--cert", chain, "--key", fixture.pki.server.keyPath, "--client-ca-cert", fixture.pki.root.certPath,
            "--state-dir", fixture.directory.join("state"),
            // Handshakes beside the parallel suite can be slow, and the stalled readers must
            // outlast the measurement; the timeouts are not what this test is about.
            "--tls-handshake-timeout", "\(TestTiming.seconds(120))", "--request-header-timeout", "\(TestTiming.seconds(120))",
            "--idle-timeout", "\(TestTiming.seconds(600))",
        ]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let port = text.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if port == nil { process.terminate() }
        return (process, try #require(port, "icon server printed no port: \(text)"))
    }

    @Test(.requiresIconBinary, .tags(.iconProcess))
    func stalledReadersHoldAFewChunksNotTheFile() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let path = fixture.imagePath + "/demo/big.iso"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let block = Data(repeating: 0x5a, count: 1 << 20)
        for _ in 0..<(Self.fileSize >> 20) { handle.write(block) }
        try handle.close()

        let (server, port) = try Self.startServer(fixture)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let pid = server.processIdentifier
        let before = try Self.residentMiB(of: pid)
        var readers: [RawConnection] = []
        defer { readers.forEach { $0.close() } }
        for _ in 0..<Self.readers {
            let reader = try await RawConnection.connect(
                port: port, tls: fixture.clientTLS(identity: fixture.pki.device), stallAfterHead: true)
            try await reader.write("GET /image/demo/big.iso HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await reader.waitReceived(timeout: TestTiming.duration(.seconds(10))) { $0.hasPrefix("HTTP/1.1 200") })
            readers.append(reader)
        }
        // Let the server push what it will; stop once memory is flat for a second (at most 20 s).
        var peak = try Self.residentMiB(of: pid)
        var flatSince = ContinuousClock.now
        let deadline = ContinuousClock.now + TestTiming.duration(.seconds(20))
        while ContinuousClock.now < deadline, ContinuousClock.now - flatSince < .seconds(1) {
            try await Task.sleep(for: .milliseconds(100))
            let now = try Self.residentMiB(of: pid)
            if now > peak + 1 { flatSince = ContinuousClock.now }
            peak = max(peak, now)
        }
        #expect(readers.allSatisfy { !$0.isClosed && $0.status == 200 })
        let growth = peak - before
        #expect(
            growth < Self.boundMiB,
            "\(Self.readers) stalled readers of a \(Self.fileSize >> 20) MiB file grew the server by \(growth) MiB")
    }
}
