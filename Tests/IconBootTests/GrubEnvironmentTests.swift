import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBoot

private let grubEditenv = "/usr/bin/grub-editenv"

@Suite struct GrubEnvironmentTests {
    @Test func writesGrubsExactFormat() throws {
        var env = GrubEnvironment()
        env[GrubEnvironment.Key.good] = "1700000000"
        env[GrubEnvironment.Key.pending] = ""
        let bytes = try env.bytes()
        #expect(bytes.count == 1024)
        let text = "# GRUB Environment Block\nicon_good=1700000000\nicon_pending=\n"
        #expect(Array(bytes.prefix(text.utf8.count)) == Array(text.utf8))
        #expect(bytes.dropFirst(text.utf8.count).allSatisfy { $0 == UInt8(ascii: "#") })
    }

    @Test func roundTripsKeepingOrderAndForeignVariables() throws {
        var env = GrubEnvironment([("saved_entry", "a\\b\nc"), ("icon_tries", "3")])
        env[GrubEnvironment.Key.good] = "17"
        env["icon_tries"] = "2"
        let read = try GrubEnvironment(bytes: try env.bytes(), source: "test")
        #expect(read == env)
        #expect(read.variables.map(\.key) == ["saved_entry", "icon_tries", "icon_good"])
        #expect(read["saved_entry"] == "a\\b\nc")
        #expect(read.timestamp("icon_tries") == 2)
        env["icon_tries"] = nil
        #expect(env["icon_tries"] == nil)
        #expect(env.variables.count == 2)
    }

    @Test func timestampsAreDigitsOnly() {
        let env = GrubEnvironment([("a", ""), ("b", "12x"), ("c", "-1"), ("d", "0042")])
        #expect(env.timestamp("a") == nil)
        #expect(env.timestamp("b") == nil)
        #expect(env.timestamp("c") == nil)
        #expect(env.timestamp("d") == 42)
        #expect(env.timestamp("missing") == nil)
    }

    @Test func refusesBadNamesOversizeAndForeignFiles() throws {
        expectIconError(.invalidArgument) { try GrubEnvironment([("a=b", "1")]).bytes() }
        expectIconError(.invalidArgument) { try GrubEnvironment([("a", String(repeating: "1", count: 1000))]).bytes() }
        expectIconError(.malformed) { try GrubEnvironment(bytes: Array("hello=1\n".utf8), source: "x") }
        expectIconError(.malformed) {
            try GrubEnvironment(bytes: Array("# GRUB Environment Block\nnoequals\n".utf8), source: "x")
        }
    }

    @Test func readingAnAbsentFileIsEmptyAndWriteCreatesTheDirectory() async throws {
        try await withTemporaryDirectory { dir in
            let path = GrubEnvironment.path(bootDir: dir.join("boot"))
            #expect(path == dir.join("boot/grub/grubenv"))
            #expect(try GrubEnvironment.read(path: path) == GrubEnvironment())
            try GrubEnvironment([("icon_good", "5")]).write(to: path)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect(attributes[.size] as? Int == 1024)
            #expect(try GrubEnvironment.read(path: path)["icon_good"] == "5")
        }
    }

    /// GRUB's own tool reads what we write and we read what it writes.
    @Test(.requiresExecutable(grubEditenv, package: "grub-common"))
    func interoperatesWithGrubEditenv() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("grubenv")
            try GrubEnvironment([("icon_good", "1700000000"), ("icon_pending", "1800000000"), ("icon_tries", "1"), ("icon_failed", "")])
                .write(to: path)
            let listed = try await Self.editenv([path, "list"])
            #expect(listed == "icon_good=1700000000\nicon_pending=1800000000\nicon_tries=1\nicon_failed=\n")
            try await Self.editenv([path, "set", "icon_tries=0", "icon_failed=1800000000", "other=x y"])
            try await Self.editenv([path, "unset", "icon_pending"])
            let read = try GrubEnvironment.read(path: path)
            #expect(read.timestamp("icon_good") == 1_700_000_000)
            #expect(read["icon_pending"] == nil)
            #expect(read["icon_tries"] == "0")
            #expect(read["icon_failed"] == "1800000000")
            #expect(read["other"] == "x y")
            // And a file grub-editenv created from scratch.
            let fresh = dir.join("fresh")
            try await Self.editenv([fresh, "create"])
            try await Self.editenv([fresh, "set", "icon_good=42"])
            #expect(try GrubEnvironment.read(path: fresh).variables.map(\.key) == ["icon_good"])
            var rewritten = try GrubEnvironment.read(path: fresh)
            rewritten[GrubEnvironment.Key.tries] = "1"
            try rewritten.write(to: fresh)
            #expect(try await Self.editenv([fresh, "list"]) == "icon_good=42\nicon_tries=1\n")
        }
    }

    @discardableResult
    static func editenv(_ arguments: [String]) async throws -> String {
        let output = try await SubprocessToolRunner().checked(ToolInvocation(grubEditenv, arguments), logger: Logger(label: "test"))
        return output.standardOutput
    }
}
