import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// Only regular files are opened: a FIFO named like an image would block `open(2)` for ever.
@Suite(.timeLimit(.minutes(1))) struct RegularFileTests {
    @Test func aFIFOIsRefusedWithoutBlocking() async throws {
        try await withTemporaryDirectory { dir in
            let fifo = dir.join("1700000000.iso")
            try #require(mkfifo(fifo, 0o644) == 0)
            #expect(RegularFile.otherKind(atPath: fifo) == "a FIFO")
            for (name, attempt) in [
                ("hash", { _ = try FileHasher.sha256Hex(ofFileAt: fifo) }),
                ("volume id", { _ = try ISO9660.volumeID(atPath: fifo) }),
                ("contents", { _ = try RegularFile.contents(atPath: fifo) }),
            ] as [(String, () throws -> Void)] {
                let error = try #require(throws: IconError.self, "\(name)") { try attempt() }
                #expect(error.code == .io)
                #expect(error.message == "\(fifo) is a FIFO, not a regular file", "\(name)")
            }
        }
    }

    @Test func regularFilesAndSymlinksToThemOpen() async throws {
        try await withTemporaryDirectory { dir in
            try Data("abc".utf8).write(to: URL(fileURLWithPath: dir.join("file")))
            try FileManager.default.createSymbolicLink(atPath: dir.join("link"), withDestinationPath: "file")
            #expect(RegularFile.otherKind(atPath: dir.join("file")) == nil)
            #expect(RegularFile.otherKind(atPath: dir.join("link")) == "a symbolic link")
            #expect(try RegularFile.contents(atPath: dir.join("link")) == Data("abc".utf8))
            #expect(try RegularFile.contents(atPath: dir.join("missing")) == nil)
            #expect(RegularFile.otherKind(atPath: dir.join("missing")) == nil)
            #expect(RegularFile.otherKind(atPath: dir.path) == "a directory")
            let error = try #require(throws: IconError.self) { try RegularFile.contents(atPath: dir.path) }
            #expect(error.code == .io)
            #expect(error.message == "\(dir.path) is a directory, not a regular file")
        }
    }
}

/// Temp files of a writer killed with SIGKILL are recognised by the PID in their name.
@Suite struct AtomicFileStaleTemporaryTests {

    @Test func tempNamesCarryTheWritersPID() {
        #expect(AtomicFile.temporaryPrefix(for: "manifest.json") == ".manifest.json.tmp-\(getpid())-")
        #expect(AtomicFile.writer(ofTemporaryName: ".manifest.json.unsigned.tmp-4242-AbC123") == .process(4242))
        #expect(AtomicFile.writer(ofTemporaryName: ".grub.cfg.tmp-AbC123") == .unknown)
        for name in [
            "manifest.json", ".manifest.json", ".tmp-1-abc", "x.tmp-1-abc", ".a.tmp-", ".a.tmp-1-", ".a.tmp-x-y",
            ".a.tmp-1-2-3", ".a.tmp-ab.c", ".1700000000.iso.part-AbC123",
        ] {
            #expect(AtomicFile.writer(ofTemporaryName: name) == nil, "\(name)")
        }
    }

    @Test func staleTemporariesGoLiveOnesAndOtherFilesStay() async throws {
        try await withTemporaryDirectory { dir in
            let dead = ".manifest.json.unsigned.tmp-\(try ExitedProcess.pid())-AbC123"
            let mine = ".manifest.json.tmp-\(getpid())-XyZ789"
            let initProcess = ".grub.cfg.tmp-1-Qwe456"  // PID 1 always runs
            let oldUnattributed = ".grubenv.tmp-Old123"
            let youngUnattributed = ".grubenv.tmp-New123"
            let others = ["manifest.json", ".1700000000.iso.part-AbC123", "1700000000.iso"]
            for name in [dead, mine, initProcess, oldUnattributed, youngUnattributed] + others {
                try Data("x".utf8).write(to: URL(fileURLWithPath: dir.join(name)))
            }
            let twoHoursAgo = Date().addingTimeInterval(-7200)
            try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: dir.join(oldUnattributed))
            let removed = AtomicFile.removeStaleTemporaries(in: dir.path)
            #expect(removed == [dead, oldUnattributed].sorted())
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
            #expect(left == Set([mine, initProcess, youngUnattributed] + others))
        }
    }
}
