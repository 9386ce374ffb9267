import Foundation
@testable import IconServer
import Testing

/// The server gives freed memory back: glibc's `malloc_trim` is found, and calling it returns
/// the free pages of a heap that held 256 MiB of small blocks.
@Suite struct MemoryTrimmerTests {
    /// The process's resident memory in MiB, from /proc/self/status.
    static func residentMiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) / 1024
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/libc.so.6"), "malloc_trim is glibc's"))
    func freedSmallBlocksGoBackToTheSystem() throws {
        // 4,096 blocks of 64 KiB (below glibc's mmap threshold, so they live in the heap),
        // touched so they are resident, then freed; the heap keeps them until a trim.
        let blocks = (0..<4096).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(64 << 10)!
            memset(block, 0x5a, 64 << 10)
            return block
        }
        // The last block stays allocated, so freeing the others leaves a hole glibc cannot give
        // back by shrinking the heap's top: only a trim returns it.
        blocks.dropLast().forEach { free($0) }
        let before = try Self.residentMiB()
        #expect(MemoryTrimmer.trimNow())
        let after = try Self.residentMiB()
        free(blocks.last!)
        #expect(before - after > 128, "RSS \(before) MiB before the trim, \(after) MiB after")
    }
}
