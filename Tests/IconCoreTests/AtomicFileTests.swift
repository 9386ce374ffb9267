import Foundation
import IconCore
import IconTestSupport
import Testing

@Suite struct AtomicFileTests {
    @Test func writesContentAndModeAndLeavesNoTempFile() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("state.json")
            try AtomicFile.write(Data("one".utf8), to: path, mode: 0o600)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "one")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            try AtomicFile.write(Data("two".utf8), to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["state.json"])
        }
    }

    @Test func failedWriteKeepsThePreviousFile() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("keep")
            try AtomicFile.write(Data("old".utf8), to: path)
            expectIconError(.io) {
                try AtomicFile.write(Data("new".utf8), to: dir.join("missing-dir/keep"))
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        }
    }

    @Test func errorNamesThePath() async throws {
        do {
            try AtomicFile.write(Data(), to: "/nonexistent-dir/file")
            Issue.record("expected an error")
        } catch let error as IconError {
            #expect(error.code == .io)
            #expect(error.description.contains("/nonexistent-dir"))
        }
    }

    @Test func symlinkIsReplacedAtomically() async throws {
        try await withTemporaryDirectory { dir in
            let link = dir.join("current")
            try AtomicFile.symlink("1.iso", at: link)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "1.iso")
            try AtomicFile.symlink("2.iso", at: link)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "2.iso")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["current"])
        }
    }
}

@Suite struct IconErrorTests {
    @Test func foundationCausesPrintAsOneShortLine() {
        let cause = CocoaError(.fileReadNoPermission, userInfo: [
            NSFilePathErrorKey: "/x", NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES)),
        ])
        let error = IconError(.io, "cannot read /x", cause: cause)
        #expect(error.description == "io: cannot read /x (cause: Permission denied)")
    }

    @Test func codesMatchInPatterns() {
        let error: any Error = IconError(.replay, "old manifest")
        #expect(IconError.Code.replay ~= error)
        #expect(!(IconError.Code.io ~= error))
    }
}
