import Foundation
import IconCore
@testable import IconMachineTools
import IconTestSupport
import Testing

@Suite("tar extraction into one directory")
struct TarExtractorTests {
    /// Extracts the archive at `path` into `dest`, feeding it in `chunk`-byte pieces.
    static func extract(_ path: String, into dest: String, chunk: Int = 700) throws -> TarExtractor.Summary {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let extractor = try TarExtractor(destination: dest, source: path)
        var index = 0
        while index < bytes.count {
            try extractor.consume(bytes[index..<min(index + chunk, bytes.count)])
            index += chunk
        }
        return try extractor.finish()
    }

    @Test func extractsFilesDirectoriesLinksAndLongNames() throws {
        try withTemporaryDirectorySync { dir in
            let long = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 120)
            for format in ["", "gnu"] {
                let archive = dir.join("good\(format).tar")
                try ArchiveMaker.make(archive, compression: format, [
                    ("dir", "etc", ""), ("file", "etc/motd", "hello\n"), ("file", "./bin/tool", String(repeating: "x", count: 5000)),
                    ("symlink", "etc/link", "motd"), ("symlink", "lib/up", "../etc/motd"), ("hardlink", "etc/motd2", "etc/motd"),
                    ("file", long, "deep"),
                ])
                let dest = dir.join("out\(format)")
                let summary = try Self.extract(archive, into: dest)
                #expect(summary.files == 3)
                #expect(summary.directories == 1)
                #expect(summary.symlinks == 2)
                #expect(summary.hardlinks == 1)
                #expect(try String(contentsOfFile: "\(dest)/etc/motd", encoding: .utf8) == "hello\n")
                #expect(try String(contentsOfFile: "\(dest)/etc/link", encoding: .utf8) == "hello\n")
                #expect(try String(contentsOfFile: "\(dest)/lib/up", encoding: .utf8) == "hello\n")
                #expect(try String(contentsOfFile: "\(dest)/etc/motd2", encoding: .utf8) == "hello\n")
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dest)/bin/tool")).count == 5000)
                #expect(try String(contentsOfFile: "\(dest)/\(long)", encoding: .utf8) == "deep")
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dest)/etc/link") == "motd")
            }
        }
    }

    /// Each escape attempt is refused with `.unsafeArchiveEntry` and nothing appears outside.
    @Test(arguments: [
        ("absolute path", [("file", "/tmp/icon-escape-abs", "x")]),
        ("dot-dot", [("file", "../escape", "x")]),
        ("dot-dot inside", [("file", "a/../../escape", "x")]),
        ("absolute symlink", [("symlink", "link", "/etc")]),
        ("symlink climbing out", [("symlink", "a/link", "../../escape")]),
        ("dot-dot after a name", [("symlink", "s", "."), ("symlink", "e", "s/../..")]),
        ("write through a symlink", [("symlink", "s", "."), ("file", "s/x", "x")]),
        ("hardlink outside", [("hardlink", "h", "../escape")]),
        ("hardlink absolute", [("hardlink", "h", "/etc/passwd")]),
        ("character device", [("chardev", "null", "")]),
        ("fifo", [("fifo", "pipe", "")]),
    ])
    func refusesEscapes(name: String, entries: [(String, String, String)]) throws {
        try withTemporaryDirectorySync { dir in
            let archive = dir.join("bad.tar")
            try ArchiveMaker.make(archive, entries)
            let dest = dir.join("inner/out")
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            let error = #expect(throws: IconError.self, "\(name)") { _ = try Self.extract(archive, into: dest) }
            #expect(error?.code == .unsafeArchiveEntry, "\(name): \(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: dir.join("inner/escape")))
            #expect(!FileManager.default.fileExists(atPath: dir.join("escape")))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/icon-escape-abs"))
            #expect(!FileManager.default.fileExists(atPath: "\(dest)/s/x") || (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dest)/s")) == nil)
        }
    }

    @Test func aPreexistingSymlinkInTheDestinationIsNotFollowed() throws {
        try withTemporaryDirectorySync { dir in
            let dest = dir.join("out")
            try FileManager.default.createDirectory(atPath: dir.join("outside"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: "\(dest)/conf", withDestinationPath: dir.join("outside"))
            let archive = dir.join("a.tar")
            try ArchiveMaker.make(archive, [("file", "conf/x", "x")])
            let error = #expect(throws: IconError.self) { _ = try Self.extract(archive, into: dest) }
            #expect(error?.code == .unsafeArchiveEntry)
            #expect(!FileManager.default.fileExists(atPath: dir.join("outside/x")))
        }
    }

    @Test func truncatedAndGarbageArchivesAreMalformed() throws {
        try withTemporaryDirectorySync { dir in
            let archive = dir.join("a.tar")
            try ArchiveMaker.make(archive, [("file", "big", String(repeating: "y", count: 4000))])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
            try bytes.prefix(2048).write(to: URL(fileURLWithPath: archive))
            let error = #expect(throws: IconError.self) { _ = try Self.extract(archive, into: dir.join("out")) }
            #expect(error?.code == .malformed)
            try Data(repeating: 0x41, count: 1024).write(to: URL(fileURLWithPath: archive))
            let garbage = #expect(throws: IconError.self) { _ = try Self.extract(archive, into: dir.join("out2")) }
            #expect(garbage?.code == .malformed)
        }
    }
}
