import Foundation
import IconCore
import Logging
import Testing

/// `SubprocessToolRunner.withRunning`, the streaming form of the process seam, with real programs.
@Suite struct ToolStreamingTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Reads a running program's output to its end.
    static func collect(_ tool: RunningTool) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in tool.output { bytes += chunk }
        return bytes
    }

    @Test func inputAndOutputStreamConcurrentlyThroughAPipe() async throws {
        // 8 MiB is far more than both pipes hold: writing it all before reading would deadlock.
        let data = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let outcome = try await SubprocessToolRunner().withRunning(ToolInvocation("cat"), logger: logger) { cat in
            async let echoed = Self.collect(cat)
            var offset = 0
            while offset < data.count {
                let end = min(offset + 100_000, data.count)
                #expect(await cat.write(Array(data[offset..<end])))
                offset = end
            }
            await cat.finishInput()
            return try await echoed
        }
        #expect(outcome.exitCode == 0)
        #expect(outcome.value.count == data.count)
        #expect(outcome.value == data)
    }

    @Test func theExitCodeAndStandardErrorAreTheOutcome() async throws {
        let invocation = ToolInvocation("sh", ["-c", "echo out; echo 'last words' >&2; exit 3"])
        let outcome = try await SubprocessToolRunner().withRunning(invocation, logger: logger) { tool in
            try await Self.collect(tool)
        }
        #expect(outcome.exitCode == 3)
        #expect(String(decoding: outcome.value, as: UTF8.self) == "out\n")
        #expect(outcome.standardError == "last words\n")
    }

    @Test func terminateSendsSIGTERM() async throws {
        let outcome = try await SubprocessToolRunner().withRunning(
            ToolInvocation("sh", ["-c", "echo ready; exec sleep 600"]), logger: logger
        ) { sleeper in
            var lines = sleeper.output.makeAsyncIterator()
            #expect(try await lines.next() == Array("ready\n".utf8))
            await sleeper.terminate(grace: .seconds(30))
            while try await lines.next() != nil {}
            return ()
        }
        #expect(outcome.exitCode == 128 + SIGTERM)
    }

    @Test func terminateEscalatesToSIGKILLAfterTheGrace() async throws {
        let script = "trap '' TERM; echo ready; while :; do sleep 0.1; done"
        let outcome = try await SubprocessToolRunner().withRunning(
            ToolInvocation("sh", ["-c", script]), logger: logger
        ) { (stubborn: RunningTool) async throws in
            var lines = stubborn.output.makeAsyncIterator()
            #expect(try await lines.next() == Array("ready\n".utf8))
            await stubborn.terminate(grace: .milliseconds(300))
            return ()
        }
        #expect(outcome.exitCode == 128 + SIGKILL)
    }

    @Test func aWriteToAProgramThatStoppedReadingFailsInsteadOfKillingUs() async throws {
        let outcome = try await SubprocessToolRunner().withRunning(ToolInvocation("true"), logger: logger) { tool in
            _ = try await Self.collect(tool)
            // `true` has exited: its input pipe has no reader, so some write must fail (EPIPE).
            var accepted = 0
            while accepted < 64, await tool.write([UInt8](repeating: 1, count: 1 << 16)) { accepted += 1 }
            return accepted
        }
        #expect(outcome.value < 64)
        #expect(outcome.exitCode == 0)
    }

    /// Once Subprocess has seen the program exit it reports a write as zero bytes written, not
    /// as EPIPE; that must fail too (CI once saw all 64 writes "accepted" this way).
    @Test func aWriteAfterTheExitWasNoticedFailsToo() async throws {
        let outcome = try await SubprocessToolRunner().withRunning(ToolInvocation("true"), logger: logger) { tool in
            _ = try await Self.collect(tool)
            try await Task.sleep(for: .milliseconds(500))
            return await tool.write([UInt8](repeating: 1, count: 1 << 16))
        }
        #expect(outcome.value == false)
        #expect(outcome.exitCode == 0)
    }

    @Test func aThrowingBodyStopsTheProgramAndTheErrorComesThrough() async throws {
        struct Stop: Error { let pid: Int32 }
        let stop = await #expect(throws: Stop.self) {
            _ = try await SubprocessToolRunner().withRunning(
                ToolInvocation("sh", ["-c", "echo $$; exec sleep 600"]), terminationGrace: .seconds(5), logger: logger
            ) { sleeper in
                var lines = sleeper.output.makeAsyncIterator()
                let line = String(decoding: try await lines.next() ?? [], as: UTF8.self)
                throw Stop(pid: Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            }
        }
        let pid = try #require(stop?.pid)
        #expect(pid > 0)
        #expect(kill(pid, 0) != 0, "sleep \(pid) still runs")
    }

    @Test func cancellationStopsTheProgram() async throws {
        let started = ContinuousClock.now
        let task = Task {
            try await SubprocessToolRunner().withRunning(ToolInvocation("sleep", ["600"]), logger: logger) { sleeper in
                try await Self.collect(sleeper)
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Not a timing goal: the run must not have waited out the sleep. Half of it leaves room
        // for a machine so busy that starting and stopping a program takes a minute (seen).
        #expect(ContinuousClock.now - started < .seconds(300))
    }

    @Test func aProgramThatCannotStartIsToolFailedNamingIt() async throws {
        let error = await #expect(throws: IconError.self) {
            try await SubprocessToolRunner().withRunning(ToolInvocation("/nonexistent/tool", ["-x"]), logger: logger) { _ in }
        }
        #expect(error?.code == .toolFailed)
        #expect(error?.message == "cannot run /nonexistent/tool -x")
    }

    @Test func aReplacedEnvironmentHoldsOnlyWhatTheInvocationNames() async throws {
        let invocation = ToolInvocation("/usr/bin/env", environment: ["ONLY": "this"], replacesEnvironment: true)
        let outcome = try await SubprocessToolRunner().withRunning(invocation, logger: logger) { env in
            try await Self.collect(env)
        }
        #expect(String(decoding: outcome.value, as: UTF8.self) == "ONLY=this\n")
        // The same through the non-streaming form.
        let output = try await SubprocessToolRunner().run(invocation, logger: logger)
        #expect(output.standardOutput == "ONLY=this\n")
    }
}
