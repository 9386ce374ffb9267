import Foundation
import IconCore
import IconTestSupport
import Logging
import Synchronization
import Testing

@Suite struct SubprocessToolRunnerTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func trueExitsZero() async throws {
        let output = try await SubprocessToolRunner().run(ToolInvocation("true"), logger: logger)
        #expect(output.exitCode == 0)
        #expect(output.succeeded)
        #expect(output.standardOutput.isEmpty)
    }

    @Test func falseIsAResultAndCheckThrowsToolFailed() async throws {
        let invocation = ToolInvocation("false")
        let output = try await SubprocessToolRunner().run(invocation, logger: logger)
        #expect(output.exitCode == 1)
        let error = try #require(throws: IconError.self) { try output.check(invocation) }
        #expect(error.code == .toolFailed)
    }

    @Test func echoCapturesStandardOutput() async throws {
        let output = try await SubprocessToolRunner().run(
            ToolInvocation("/bin/echo", ["hello", "world"]), logger: logger)
        #expect(output.standardOutput == "hello world\n")
        #expect(output.standardError.isEmpty)
    }

    @Test func standardErrorIsCapturedAndNamedInTheFailure() async throws {
        let invocation = ToolInvocation("sh", ["-c", "echo out; echo first >&2; echo 'last words' >&2; exit 3"])
        let output = try await SubprocessToolRunner().run(invocation, logger: logger)
        #expect(output.exitCode == 3)
        #expect(output.standardOutput == "out\n")
        #expect(output.standardError == "first\nlast words\n")
        let error = try #require(throws: IconError.self) { try output.check(invocation) }
        #expect(error.code == .toolFailed)
        #expect(error.message.contains("exited with code 3"))
        #expect(error.message.contains("last words"))
        #expect(error.message.contains("sh -c"))
    }

    @Test func environmentAndWorkingDirectoryAreApplied() async throws {
        try await withTemporaryDirectory { dir in
            let output = try await SubprocessToolRunner().run(
                ToolInvocation("sh", ["-c", "echo \"$ICON_TEST_VAR\"; pwd"],
                               environment: ["ICON_TEST_VAR": "value with space"], workingDirectory: dir.path),
                logger: logger)
            let realDir = URL(fileURLWithPath: dir.path).resolvingSymlinksInPath().path
            #expect(output.standardOutput == "value with space\n\(realDir)\n")
            // The inherited environment is kept: PATH is still there.
            let path = try await SubprocessToolRunner().run(ToolInvocation("sh", ["-c", "echo $PATH"]), logger: logger)
            #expect(!path.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        }
    }

    @Test func outputBeyondTheLimitKeepsTheTail() async throws {
        let runner = SubprocessToolRunner(outputLimit: 1000)
        let output = try await runner.run(ToolInvocation("sh", ["-c", "seq 1 100000"]), logger: logger)
        #expect(output.standardOutput.utf8.count == 1000)
        #expect(output.standardOutput.hasSuffix("99999\n100000\n"))
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() async throws {
        let output = try await SubprocessToolRunner().run(
            ToolInvocation("sh", ["-c", "seq 1 50000 >&2; seq 1 50000"]), logger: logger)
        #expect(output.exitCode == 0)
        #expect(output.standardOutput.hasSuffix("\n50000\n"))
        #expect(output.standardError.hasSuffix("\n50000\n"))
    }

    @Test func streamedLinesReachTheLogger() async throws {
        let log = TestLog(level: .trace)
        let runner = SubprocessToolRunner(streamLevel: .info)
        _ = try await runner.run(ToolInvocation("sh", ["-c", "printf 'one\\ntwo\\rthree'; echo oops >&2"]), logger: log.logger())
        let lines = log.entries.map { "\($0.level) \($0.message)" }
        #expect(lines.contains("info sh: one"))
        #expect(lines.contains("info sh: two"))
        #expect(lines.contains("info sh: three"))
        #expect(lines.contains("info sh!: oops"))
    }

    @Test func missingProgramThrowsToolFailed() async throws {
        let error = try await #require(throws: IconError.self) {
            try await SubprocessToolRunner().run(ToolInvocation("/nonexistent/icon-no-such-tool"), logger: logger)
        }
        #expect(error.code == .toolFailed)
        #expect(error.message.contains("/nonexistent/icon-no-such-tool"))
    }

    @Test func commandLineQuotesForTheShell() {
        let invocation = ToolInvocation("echo", ["a b", "it's", "plain"], environment: ["X": "1 2"])
        #expect(invocation.commandLine == "echo 'a b' 'it'\\''s' plain")
        #expect(invocation.description == "X='1 2' echo 'a b' 'it'\\''s' plain")
    }

    @Test func recordingRunnerRecordsInOrderAndAnswers() async throws {
        let fake = RecordingToolRunner { invocation in
            ToolOutput(exitCode: invocation.executable == "bad" ? 2 : 0, standardError: "nope")
        }
        _ = try await fake.run(ToolInvocation("good", ["1"]), logger: logger)
        let bad = try await fake.run(ToolInvocation("bad"), logger: logger)
        #expect(fake.commandLines == ["good 1", "bad"])
        #expect(bad.exitCode == 2)
        let error = try await #require(throws: IconError.self) {
            try await fake.checked(ToolInvocation("bad"), logger: logger)
        }
        #expect(error.code == .toolFailed)
    }
}

@Suite struct SubprocessToolRunnerCancellationTests {
    @Test func cancellingARunStopsTheProgramAndThrowsCancellation() async throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        // A duration no other process uses, so the check below finds only this child.
        let marker = "600.\(UInt32.random(in: 100_000...999_999))"
        let task = Task { try await SubprocessToolRunner().run(ToolInvocation("sleep", [marker]), logger: logger) }
        var started = false
        for _ in 0..<500 where !started {
            try await Task.sleep(for: .milliseconds(20))
            started = Self.processRuns(withArgument: marker)
        }
        #expect(started)
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(!Self.processRuns(withArgument: marker), "the program still runs after cancellation")
    }

    /// Whether a process with `argument` on its command line exists (from /proc).
    static func processRuns(withArgument argument: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { pid in
            guard Int(pid) != nil,
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                !stat.contains(") Z ")  // a zombie has already stopped
            else { return false }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == argument }
        }
    }
}
