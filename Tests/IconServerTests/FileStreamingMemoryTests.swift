import Foundation
import IconServer
import Testing

/// File responses stream with backpressure: a client that reads nothing holds a few chunks of
/// the server's memory, not the file. Measured as the test process's resident memory (the
/// server runs in it), so this suite runs its one test alone.
@Suite(.serialized) struct FileStreamingMemoryTests {
    static let readers = 20
    static let fileSize = 64 << 20
    /// Well below the 20 x 64 MiB that buffering whole responses would take.
    static let boundMiB = 160

    /// The process's resident memory in MiB, from /proc/self/status.
    static func residentMiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib / 1024
    }

    @Test func stalledReadersHoldAFewChunksNotTheFile() async throws {
        let fixture = try ServerFixture()
        defer { fixture.remove() }
        let path = fixture.imagePath + "/demo/big.iso"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let block = Data(repeating: 0x5a, count: 1 << 20)
        for _ in 0..<(Self.fileSize >> 20) { handle.write(block) }
        try handle.close()

        try await fixture.withServer { port in
            let before = try Self.residentMiB()
            var readers: [RawConnection] = []
            defer { readers.forEach { $0.close() } }
            for _ in 0..<Self.readers {
                let reader = try await RawConnection.connect(
                    port: port, tls: fixture.clientTLS(identity: fixture.pki.device), stallAfterHead: true)
                try await reader.write("GET /image/demo/big.iso HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(await reader.waitReceived(timeout: .seconds(10)) { $0.hasPrefix("HTTP/1.1 200") })
                readers.append(reader)
            }
            // Let the server push what it will; stop once memory is flat for a second (at most 20 s).
            var peak = try Self.residentMiB()
            var flatSince = ContinuousClock.now
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, ContinuousClock.now - flatSince < .seconds(1) {
                try await Task.sleep(for: .milliseconds(100))
                let now = try Self.residentMiB()
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
}
