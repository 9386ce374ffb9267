import ArgumentParser
import Foundation
import IconAgent
import IconBuild
@testable import IconCommands
import IconCore
import IconTestSupport
import Testing


/// The boot-safety flags from `icon module iconograph` through agent.env to `icon agent`.
@Suite struct AgentBootSafetyFlagsTests {
    static let required = [
        "--server", "wss://h:8443", "--ca-cert", "/c", "--https-ca-cert", "/c", "--https-client-cert", "/c",
        "--https-client-key", "/k", "--image-dir", "/b/iconograph", "--boot-dir", "/b",
    ]

    /// The ICON_AGENT_ARGS value split at whitespace, as systemd does with `$ICON_AGENT_ARGS`.
    static func systemdWords(_ environment: String) throws -> [String] {
        let line = try #require(environment.split(separator: "\n").first { $0.hasPrefix("ICON_AGENT_ARGS='") })
        let value = line.dropFirst("ICON_AGENT_ARGS='".count).dropLast()
        return value.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    @Test func moduleFlagsReachTheAgentIntact() throws {
        let module = try Self.module([
            "--boot-tries", "3", "--good-after", "90", "--health-command", "/usr/bin/systemctl",
            "--health-arg", "is-active", "--health-arg", "--quiet", "--health-arg", "app.service", "--health-timeout", "600",
        ])
        let environment = try module.agentEnvironment()
        #expect(environment.contains(
            " --boot-tries 3 --good-after 90 --health-timeout 600 --health-command /usr/bin/systemctl --health-arg is-active --health-arg --quiet --health-arg app.service'"))
        let agent = try DeviceAgent.parse(try Self.systemdWords(environment))
        #expect(try agent.healthCommandWords() == ["/usr/bin/systemctl", "is-active", "--quiet", "app.service"])
        let configuration = try agent.bootGuardConfiguration()
        // The module names the BOOT partition the image mounts at /boot: the agent has no default.
        #expect(configuration.bootDir == "/boot")
        #expect(configuration.imageDir == "/boot/iconograph")
        #expect(configuration.bootTries == 3)
        #expect(configuration.goodAfter == .seconds(90))
        #expect(configuration.healthTimeout == .seconds(600))
    }

    /// `icon module iconograph` with the required flags and `extra`, as its module.
    static func module(_ extra: [String] = []) throws -> IconographModule {
        try ModuleIconograph.parse([
            "--chroot-path", "/x", "--server", "wss://h:8443", "--ca-cert", "/c", "--https-ca-cert", "/c",
            "--https-client-cert", "/c", "--https-client-key", "/k",
        ] + extra).module()
    }

    @Test func moduleRefusesBadBootSafetyValues() {
        expectIconError(.invalidArgument) { try Self.module(["--boot-tries", "0"]).agentEnvironment() }
        expectIconError(.invalidArgument) { try Self.module(["--boot-tries", "10"]).agentEnvironment() }
        expectIconError(.invalidArgument) { try Self.module(["--good-after=-1"]).agentEnvironment() }
        expectIconError(.invalidArgument) { try Self.module(["--good-after", "100", "--health-timeout", "50"]).agentEnvironment() }
        expectIconError(.invalidArgument) { try Self.module(["--health-command", "check-app"]).agentEnvironment() }
        // An argument systemd would split is refused, not mangled.
        expectIconError(.invalidArgument) {
            try Self.module(["--health-command", "/bin/check", "--health-arg", "two words"]).agentEnvironment()
        }
        #expect(throws: Never.self) { try Self.module().agentEnvironment() }
        #expect(!((try? Self.module().agentEnvironment()) ?? "").contains("--boot-tries"))
    }

    @Test func agentOptionsRenderBackToTheSameOptions() throws {
        for words in [
            ["--server", "wss://h:8443"],
            ["--server", "wss://10.0.2.2:8443", "--server-name", "images.example.net", "--base-url", "https://h/image/x",
             "--image-type", "kiosk", "--max-images", "0", "--boot-tries", "9", "--good-after", "0", "--health-timeout", "0",
             "--health-command", "/bin/check", "--health-arg", "-v", "--health-arg", "--quiet"],
            ["--server", "wss://h", "--max-images", "5", "--boot-tries", "1", "--good-after", "60", "--health-timeout", "300"],
        ] {
            let options = try AgentOptions.parse(words)
            let rendered = options.arguments()
            #expect(try AgentOptions.parse(rendered) == options, "\(words)")
            // With the module's file flags among them, icon agent reads the same options.
            let agent = try DeviceAgent.parse(options.arguments(placing: IconographModule.installedFileArguments))
            #expect(agent.options == options)
            #expect(agent.imageDir == IconographModule.imageDirectory)
            #expect(agent.bootDir == IconographModule.bootDirectory)
        }
        // Defaults are left out: the agent's own defaults apply.
        #expect(try AgentOptions.parse(["--server", "wss://h", "--boot-tries", "1"]).arguments() == ["--server", "wss://h"])
    }

    @Test func theAgentRefusesANegativeMaxImagesAsTheModuleDoes() throws {
        expectIconError(.invalidArgument) { try DeviceAgent.parse(Self.required + ["--max-images=-1"]).bootGuardConfiguration() }
        expectIconError(.invalidArgument) { try Self.module(["--max-images=-1"]) }
    }

    @Test func agentDefaultsAndRefusals() throws {
        let defaults = try DeviceAgent.parse(Self.required).bootGuardConfiguration()
        #expect(defaults.bootTries == 1)
        #expect(defaults.goodAfter == .seconds(60))
        #expect(defaults.healthTimeout == .seconds(300))
        #expect(defaults.bootDir == "/b")
        #expect(defaults.imageDir == "/b/iconograph")
        // Without them the agent does not start: it never picks a boot menu to rewrite by itself.
        for flag in ["--image-dir", "--boot-dir"] {
            var arguments = Self.required
            let index = try #require(arguments.firstIndex(of: flag))
            arguments.removeSubrange(index...(index + 1))
            #expect(throws: (any Error).self, "\(flag)") { try DeviceAgent.parse(arguments) }
        }
        for bad in [["--boot-tries", "0"], ["--boot-tries", "12"], ["--health-arg", "x"], ["--health-command", "rel"],
                    ["--good-after", "400"]] {
            expectIconError(.invalidArgument, "\(bad)") { try DeviceAgent.parse(Self.required + bad).bootGuardConfiguration() }
        }
    }

    @Test func fetchRefusesBadBootTries() throws {
        let command = try DeviceFetch.parse([
            "--base-url", "https://h/image/x", "--ca-cert", "/c", "--image-dir", "/i", "--boot-tries", "0",
        ])
        expectIconError(.invalidArgument) { try command.checkFlags() }
    }

    @Test func moduleCommandCollectsHealthArguments() throws {
        let command = try ModuleIconograph.parse([
            "--chroot-path", "/x", "--server", "wss://h", "--ca-cert", "/c", "--https-ca-cert", "/c",
            "--https-client-cert", "/c", "--https-client-key", "/k", "--health-command", "/bin/check",
            "--health-arg", "a", "--health-arg", "-v",
        ])
        #expect(try command.healthCommandWords() == ["/bin/check", "a", "-v"])
        let orphan = try ModuleIconograph.parse([
            "--chroot-path", "/x", "--server", "wss://h", "--ca-cert", "/c", "--https-ca-cert", "/c",
            "--https-client-cert", "/c", "--https-client-key", "/k", "--health-arg", "a",
        ])
        expectIconError(.invalidArgument) { try orphan.healthCommandWords() }
    }
}
