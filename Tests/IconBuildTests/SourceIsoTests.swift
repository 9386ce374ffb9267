import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// Finding the kernel and initrd of a stock live ISO (`--source-iso`) and using them.
@Suite struct SourceIsoTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A file that passes as an ISO 9660 image: a primary volume descriptor at sector 16.
    static func fakeISO(at path: String) throws {
        var bytes = [UInt8](repeating: 0, count: 18 * 2048)
        let pvd = 16 * 2048
        bytes[pvd] = 1
        bytes.replaceSubrange((pvd + 1)...(pvd + 5), with: Array("CD001".utf8))
        bytes.replaceSubrange((pvd + 40)..<(pvd + 72), with: Array("STOCK".utf8) + [UInt8](repeating: 32, count: 27))
        bytes[pvd + 2048] = 255
        bytes.replaceSubrange((pvd + 2049)...(pvd + 2053), with: Array("CD001".utf8))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A runner whose xorriso lists `files` and whose extractions write the path inside the
    /// ISO as content; other tools are answered by `others`.
    static func runner(
        listing files: [String], others: @escaping @Sendable (ToolInvocation) throws -> ToolOutput = { _ in ToolOutput(exitCode: 0) }
    ) -> RecordingToolRunner {
        RecordingToolRunner { invocation in
            guard invocation.executable == "xorriso", !invocation.arguments.contains("-as") else { return try others(invocation) }
            if invocation.arguments.contains("-find") {
                return ToolOutput(exitCode: 0, standardOutput: files.map { "'\($0)'" }.joined(separator: "\n") + "\n")
            }
            if let index = invocation.arguments.firstIndex(of: "-extract") {
                let inside = invocation.arguments[index + 1]
                try Data("from iso:\(inside)".utf8).write(to: URL(fileURLWithPath: invocation.arguments[index + 2]))
            }
            return ToolOutput(exitCode: 0)
        }
    }

    @Test func parsesXorrisoFindOutput() {
        let text = "'/live/vmlinuz'\n'/odd/it'\\''s'\nxorriso : NOTE : noise\n"
        #expect(SourceIso.parseFileList(text) == ["/live/vmlinuz", "/odd/it's"])
    }

    @Test func findsCasperAndLiveBootLayouts() {
        let ubuntu = SourceIso.find(in: [
            "/casper/filesystem.squashfs", "/casper/vmlinuz", "/casper/initrd", "/boot/grub/grub.cfg",
        ])
        #expect(ubuntu == .init(flavor: .ubuntu, kernel: "/casper/vmlinuz", initrd: "/casper/initrd"))
        let debian = SourceIso.find(in: ["/live/vmlinuz", "/live/initrd.img", "/live/filesystem.squashfs"])
        #expect(debian == .init(flavor: .debian, kernel: "/live/vmlinuz", initrd: "/live/initrd.img"))
        // Debian's stock live ISOs name the version; the newest kernel and its own initrd win.
        let versioned = SourceIso.find(in: [
            "/live/vmlinuz-6.1.0-9-amd64", "/live/initrd.img-6.1.0-9-amd64",
            "/live/vmlinuz-6.1.0-10-amd64", "/live/initrd.img-6.1.0-10-amd64",
        ])
        #expect(versioned == .init(flavor: .debian, kernel: "/live/vmlinuz-6.1.0-10-amd64", initrd: "/live/initrd.img-6.1.0-10-amd64"))
        #expect(SourceIso.find(in: ["/casper/initrd.lz", "/casper/vmlinuz"])?.initrd == "/casper/initrd.lz")
        // Incomplete layouts and look-alikes elsewhere are not enough.
        #expect(SourceIso.find(in: ["/live/vmlinuz"]) == nil)
        #expect(SourceIso.find(in: ["/casper/initrd", "/casper/vmlinuz.efi"]) == nil)
        #expect(SourceIso.find(in: ["/boot/vmlinuz", "/boot/initrd.img", "/live/sub/vmlinuz", "/live/sub/initrd"]) == nil)
    }

    @Test func openNamesTheISOInEveryError() async throws {
        try await withTemporaryDirectory { dir in
            let missing = await #expect(throws: IconError.self) {
                try await SourceIso.open(path: dir.join("nope.iso"), runner: Self.runner(listing: []), logger: logger)
            }
            #expect(missing?.code == .notFound)
            #expect(missing?.message == "--source-iso \(dir.join("nope.iso")) does not exist")

            try Data("not an iso".utf8).write(to: URL(fileURLWithPath: dir.join("text.iso")))
            let notISO = await #expect(throws: IconError.self) {
                try await SourceIso.open(path: dir.join("text.iso"), runner: Self.runner(listing: []), logger: logger)
            }
            #expect(notISO?.code == .malformed)
            #expect(notISO?.message == "--source-iso \(dir.join("text.iso")) is not an ISO 9660 image")

            try Self.fakeISO(at: dir.join("empty.iso"))
            let empty = await #expect(throws: IconError.self) {
                try await SourceIso.open(
                    path: dir.join("empty.iso"), runner: Self.runner(listing: ["/boot/grub/grub.cfg"]), logger: logger)
            }
            #expect(empty?.code == .notFound)
            #expect(empty?.message.hasPrefix("--source-iso \(dir.join("empty.iso")) has no live kernel and initrd") == true)
            #expect(empty?.message.contains("\n") == false)

            let runner = Self.runner(listing: ["/casper/vmlinuz", "/casper/initrd"])
            let iso = try await SourceIso.open(path: dir.join("empty.iso"), runner: runner, logger: logger)
            #expect(runner.commandLines == ["xorriso -indev \(dir.join("empty.iso")) -find / -type f"])
            expectIconError(.invalidArgument) { try iso.check(flavor: .debian) }
            #expect(throws: Never.self) { try iso.check(flavor: .ubuntu) }
        }
    }

    @Test func theBuildTakesKernelAndInitrdFromTheSourceISO() async throws {
        try await withTemporaryDirectory { dir in
            try Self.fakeISO(at: dir.join("stock.iso"))
            let seen = LineCollector()
            let pipeline = ImageBuilderPipelineTests.fakeTools()
            // The pipeline's fake tools, with xorriso answering like a real stock ISO; what was
            // extracted is read while the work area still exists (when the ISO is written).
            let runner = Self.runner(listing: ["/live/vmlinuz-6.1.0-1-amd64", "/live/initrd.img-6.1.0-1-amd64"]) { invocation in
                if invocation.executable == "xorriso", let tree = invocation.arguments.last {
                    for name in ["vmlinuz", "initrd.img"] {
                        seen.append("\(name)=\((try? String(contentsOfFile: "\(tree)/live/\(name)", encoding: .utf8)) ?? "")")
                    }
                }
                return try pipeline(invocation)
            }
            var options = ImageBuilderPipelineTests().options(dir)
            options.sourceISO = dir.join("stock.iso")
            let lines = LineCollector()
            _ = try await ImageBuilder(
                options: options, runner: runner, logger: logger, hostSources: ImageBuilderPipelineTests.host,
                report: { lines.append($0) }
            ).build()
            // The ISO is read before anything is bootstrapped, then only extracted from.
            #expect(runner.invocations.first?.commandLine == "xorriso -indev \(dir.join("stock.iso")) -find / -type f")
            #expect(seen.lines == [
                "vmlinuz=from iso:/live/vmlinuz-6.1.0-1-amd64", "initrd.img=from iso:/live/initrd.img-6.1.0-1-amd64",
            ])
            #expect(lines.lines.contains { $0.contains("from \(dir.join("stock.iso"))") })
            #expect(!runner.invocations.contains { $0.executable == "mount" && $0.arguments.contains("loop") })
        }
    }
}
