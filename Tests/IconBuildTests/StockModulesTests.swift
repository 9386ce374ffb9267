import Foundation
import IconCore
import IconTestSupport
import Logging
import Testing

@testable import IconBuild

/// Each stock module run against a temporary directory as the chroot.
@Suite struct StockModulesTests {
    static func context(_ root: String, runner: any ToolRunner = releaseIconRunner()) throws -> ModuleContext {
        try ModuleContext(chrootPath: root, runner: runner, logger: ModuleContextTests.logger)
    }

    /// Every tool succeeds silently, and the `<icon>` stand-in says it is a release build, as
    /// `icon --version` of dist/icon does (`IconBinaryInstaller` asks it).
    static func releaseIconRunner(version: String = "0.2.0 (commit 0123456789ab)") -> RecordingToolRunner {
        RecordingToolRunner { invocation in
            invocation.arguments == ["--version"] ? ToolOutput(exitCode: 0, standardOutput: version + "\n") : ToolOutput(exitCode: 0)
        }
    }

    /// The `<icon>` stand-in, as `--icon-binary` names it.
    static func binary(_ input: String) -> IconBinaryInstaller {
        IconBinaryInstaller(binary: "\(input)/icon", flag: "--icon-binary")
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func link(_ path: String) throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: path) }

    /// Runs `script` with /bin/sh and returns its standard output.
    static func shell(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    /// Host files standing in for the binary, CA and client files.
    static func inputs(_ dir: TemporaryDirectory) throws -> String {
        let input = dir.join("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for name in ["icon", "ca.pem", "https-ca.pem", "client.pem", "client.key"] {
            _ = FileManager.default.createFile(atPath: "\(input)/\(name)", contents: Data("<\(name)>".utf8))
        }
        try FileManager.default.createDirectory(atPath: dir.join("root"), withIntermediateDirectories: true)
        return input
    }

    static func iconograph(_ input: String, baseURL: String? = nil, imageType: String? = nil) -> IconographModule {
        // The words `icon module iconograph` renders from its agent flags.
        let arguments =
            ["--server", "wss://images.example.com:8443", "--server-name", "images.example.com"]
            + (baseURL.map { ["--base-url", $0] } ?? []) + IconographModule.installedFileArguments
            + (imageType.map { ["--image-type", $0] } ?? []) + ["--max-images", "3"]
        return IconographModule(
            caCert: "\(input)/ca.pem", httpsCACert: "\(input)/https-ca.pem", httpsClientCert: "\(input)/client.pem",
            httpsClientKey: "\(input)/client.key", agentArguments: arguments, binary: binary(input))
    }

    @Test func iconographInstallsBinaryFilesAndUnits() async throws {
        try await withTemporaryDirectory { dir in
            let input = try Self.inputs(dir)
            let root = dir.join("root")
            let module = Self.iconograph(input, baseURL: "https://h/image/kiosk?x=1&y=$(reboot)")
            try await module.apply(to: Self.context(root))
            try await module.apply(to: Self.context(root))  // idempotent
            #expect(try Self.read("\(root)/usr/local/bin/icon") == "<icon>")
            #expect(try ModuleContextTests.mode("\(root)/usr/local/bin/icon") == 0o755)
            #expect(try Self.read("\(root)/etc/icon/client.key") == "<client.key>")
            #expect(try ModuleContextTests.mode("\(root)/etc/icon/client.key") == 0o600)
            #expect(try Self.read("\(root)/etc/icon/ca.pem") == "<ca.pem>")
            #expect(try Self.read("\(root)/etc/systemd/system/icon-agent.service") == AgentUnit.text)
            #expect(try Self.link("\(root)/etc/systemd/system/multi-user.target.wants/icon-agent.service") == "/etc/systemd/system/icon-agent.service")
            #expect(try Self.link("\(root)/etc/systemd/system/multi-user.target.wants/icon-boot-mount.service") == "/etc/systemd/system/icon-boot-mount.service")
            #expect(try ModuleContextTests.mode("\(root)\(BootMount.scriptPath)") == 0o755)
            // A shell reading agent.env sees the hostile URL as data, not a command.
            let value = try Self.shell(". '\(root)/etc/icon/agent.env'; printf %s \"$ICON_AGENT_ARGS\"")
            #expect(value == "--server wss://images.example.com:8443 --server-name images.example.com --base-url https://h/image/kiosk?x=1&y=$(reboot) --image-dir /boot/iconograph --boot-dir /boot --ca-cert /etc/icon/ca.pem --https-ca-cert /etc/icon/https-ca.pem --https-client-cert /etc/icon/client.pem --https-client-key /etc/icon/client.key --max-images 3")
            #expect(try Self.read("\(root)/etc/icon/agent.env").hasSuffix("\nICON_AGENT_ARGS='--server wss://images.example.com:8443 --server-name images.example.com --base-url https://h/image/kiosk?x=1&y=$(reboot) --image-dir /boot/iconograph --boot-dir /boot --ca-cert /etc/icon/ca.pem --https-ca-cert /etc/icon/https-ca.pem --https-client-cert /etc/icon/client.pem --https-client-key /etc/icon/client.key --max-images 3'\n"))
        }
    }

    @Test func iconographRefusesValuesSystemdWouldSplit() async throws {
        try await withTemporaryDirectory { dir in
            let input = try Self.inputs(dir)
            for hostile in ["kiosk lab", "it's", "a\\b", "x\ny"] {
                await expectIconError(.invalidArgument) { try await Self.iconograph(input, imageType: hostile).apply(to: Self.context(dir.join("root"))) }
            }
            #expect(!FileManager.default.fileExists(atPath: dir.join("root/etc/icon/agent.env")))
        }
    }

    @Test func agentUnitMatchesTheDistFile() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #expect(try Self.read(repo.appendingPathComponent("packaging/image/icon-agent.service").path) == AgentUnit.text)
    }

    @Test func bootScriptsAreValidShell() throws {
        for script in [BootMount.script, SystemIDModule.mountScript, SystemIDModule.script] {
            _ = try Self.shell("sh -n <<'ICON_EOF'\n\(script)ICON_EOF\n")
        }
    }

    /// The hostname script with its paths moved into `dir`, run on an id file holding `id`.
    /// Without `id` there is no id file (no drive attached).
    static func hostnameFromScript(id: String?, in dir: TemporaryDirectory) throws -> String? {
        try? FileManager.default.removeItem(atPath: dir.join("systemid"))
        try id?.write(toFile: dir.join("systemid"), atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: dir.join("hostname"))
        let script = SystemIDModule.script
            .replacingOccurrences(of: "/systemid/systemid", with: dir.join("systemid"))
            .replacingOccurrences(of: "/etc/hostname", with: dir.join("hostname"))
            .replacingOccurrences(of: "hostname \"$id\"", with: "true")
        _ = try shell(script)
        return try? read(dir.join("hostname"))
    }

    @Test func hostnameScriptTakesOnlyValidIDs() throws {
        try withTemporaryDirectorySync { dir in
            let valid = try Self.hostnameFromScript(id: "kiosk-0042\nsecond line\n", in: dir)
            #expect(valid == "kiosk-0042\n")
            for hostile in ["$(touch \(dir.join("pwned")))", "a;b", "-rf", "", "../x/y"] {
                let written = try Self.hostnameFromScript(id: hostile, in: dir)
                #expect(written == nil, "\(hostile)")
            }
            #expect(!FileManager.default.fileExists(atPath: dir.join("pwned")))
            // No drive: the script succeeds (shell() throws otherwise) and keeps the hostname.
            #expect(try Self.hostnameFromScript(id: nil, in: dir) == nil)
        }
    }

    @Test func persistentAndSystemIDShareFstabIdempotently() throws {
        try withTemporaryDirectorySync { dir in
            let root = dir.join("root")
            try FileManager.default.createDirectory(atPath: "\(root)/etc", withIntermediateDirectories: true)
            try "# static\nproc /proc proc defaults 0 0\nLABEL=OLD /persistent ext4 defaults 0 2\n".write(toFile: "\(root)/etc/fstab", atomically: true, encoding: .utf8)
            let context = try Self.context(root)
            for _ in 0..<2 {
                try PersistentModule().apply(to: context)
                try SystemIDModule().apply(to: context)
            }
            #expect(try Self.read("\(root)/etc/fstab") == """
                # static
                proc /proc proc defaults 0 0
                LABEL=PERSISTENT /persistent auto defaults,nofail,x-systemd.device-timeout=90s 0 2
                LABEL=SYSTEMID /systemid auto defaults,noauto,nofail,x-systemd.device-timeout=10s 0 2

                """)
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: "\(root)/persistent", isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(FileManager.default.fileExists(atPath: "\(root)/systemid"))
            let unit = try Self.read("\(root)/etc/systemd/system/\(SystemIDModule.unitName)")
            #expect(unit.contains("Before=network-pre.target"))
            #expect(unit.contains("ExecStartPre=\"\(SystemIDModule.mountScriptPath)\"\n"))
            #expect(unit.contains("After=systemd-udevd.service systemd-udev-trigger.service"))
            // A missing drive must not hold the unit (and sysinit.target) to a device timeout.
            #expect(!unit.contains("RequiresMountsFor"))
            #expect(try Self.read("\(root)\(SystemIDModule.mountScriptPath)") == SystemIDModule.mountScript)
            #expect(try Self.link("\(root)/etc/systemd/system/sysinit.target.wants/\(SystemIDModule.unitName)") == "/etc/systemd/system/\(SystemIDModule.unitName)")
        }
    }

    @Test func autoimageRunsIconImageWithEscapedArguments() async throws {
        try await withTemporaryDirectory { dir in
            let input = try Self.inputs(dir)
            let root = dir.join("root")
            let files = AutoimageModule.Files(
                caCert: "\(input)/ca.pem", httpsClientCert: "\(input)/client.pem", httpsClientKey: "\(input)/client.key")
            // The words `icon module autoimage` renders from its disk flags.
            let module = AutoimageModule(
                device: "/dev/sda", files: files,
                imageArguments: ["--device", "/dev/sda", "--base-url", "https://h/$HOME/50%\"x"] + files.trustArguments
                    + ["--persistent-percent", "50"] + files.httpsArguments)
            try await module.apply(to: Self.context(root), binary: Self.binary(input))
            let unit = try Self.read("\(root)/etc/systemd/system/icon-autoimage.service")
            #expect(unit.contains(#"ExecStart="/usr/local/bin/icon" "image" "--yes" "--device" "/dev/sda" "--base-url" "https://h/$$HOME/50%%\"x" "--ca-cert" "/etc/icon/autoimage/ca.pem" "--persistent-percent" "50" "--https-client-cert" "/etc/icon/autoimage/client.pem" "--https-client-key" "/etc/icon/autoimage/client.key""#))
            #expect(try ModuleContextTests.mode("\(root)/etc/icon/autoimage/client.key") == 0o600)
            #expect(try Self.read("\(root)/usr/local/bin/icon") == "<icon>")
            #expect(try Self.link("\(root)/etc/systemd/system/multi-user.target.wants/icon-autoimage.service") == "/etc/systemd/system/icon-autoimage.service")
        }
    }

    @Test func certclientRunsAfterSystemIDPerTag() async throws {
        try await withTemporaryDirectory { dir in
            let input = try Self.inputs(dir)
            let root = dir.join("root")
            // The words `icon module certclient` renders from its request flags.
            let module = CertclientModule(
                caCert: "\(input)/ca.pem", clientCert: "\(input)/client.pem", clientKey: "\(input)/client.key", tag: "www",
                clientArguments: ["--server", "https://certs:8444"] + CertclientModule.installedFileArguments(tag: "www")
                    + ["--tag", "www", "--subject", "/O=A \"B\"/CN=SYSTEMID"])
            try await module.apply(to: Self.context(root), binary: Self.binary(input))
            let unit = try Self.read("\(root)/etc/systemd/system/icon-certclient-www.service")
            #expect(unit.contains("After=network-online.target icon-systemid-hostname.service"))
            #expect(unit.contains(#""--tag" "www" "--subject" "/O=A \"B\"/CN=SYSTEMID""#))
            #expect(try ModuleContextTests.mode("\(root)/etc/icon/certclient-www/client.key") == 0o600)
            let bad = CertclientModule(caCert: "\(input)/ca.pem", clientCert: "c", clientKey: "k", tag: "../x", clientArguments: [])
            await expectIconError(.invalidArgument) { try await bad.apply(to: Self.context(root), binary: Self.binary(input)) }
        }
    }

    @Test func opensshInstallsTheServerAndPrefersTheSystemIDKey() async throws {
        try await withTemporaryDirectory { dir in
            let runner = RecordingToolRunner()
            try await OpenSSHModule().apply(to: Self.context(dir.path, runner: runner))
            #expect(runner.commandLines == ["chroot \(dir.path) apt-get install -y --no-install-recommends openssh-server"])
            let config = try Self.read(dir.join("etc/ssh/sshd_config.d/icon-systemid.conf"))
            #expect(config.split(separator: "\n").first(where: { $0.hasPrefix("HostKey") }) == "HostKey /systemid/ssh_host_ed25519_key")
            #expect(try Self.read(dir.join("etc/systemd/system/ssh.service.d/icon-systemid.conf")).contains("After=local-fs.target systemid.mount"))
        }
    }

    @Test func opensshFailsWhenAptFails() async throws {
        try await withTemporaryDirectory { dir in
            let runner = RecordingToolRunner { _ in ToolOutput(exitCode: 100, standardError: "E: Unable to locate package") }
            await expectIconError(.toolFailed) { try await OpenSSHModule().apply(to: Self.context(dir.path, runner: runner)) }
            #expect(!FileManager.default.fileExists(atPath: dir.join("etc/ssh/sshd_config.d/icon-systemid.conf")))
        }
    }

    @Test func adduserReadsTheKeyFile() async throws {
        try await withTemporaryDirectory { dir in
            let runner = RecordingToolRunner()
            _ = FileManager.default.createFile(atPath: dir.join("ops.pub"), contents: Data("ssh-ed25519 AAAA ops\n".utf8))
            try FileManager.default.createDirectory(atPath: dir.join("root"), withIntermediateDirectories: true)
            let module = AddUserModule(username: "ops", passwordHash: "$y$j9T$x", groups: ["sudo"], authorizedKey: dir.join("ops.pub"))
            try await module.apply(to: Self.context(dir.join("root"), runner: runner))
            #expect(try Self.read(dir.join("root/home/ops/.ssh/authorized_keys")) == "ssh-ed25519 AAAA ops\n")
            #expect(runner.invocations.first?.arguments.contains("$y$j9T$x") == true)
            let missing = AddUserModule(username: "ops", authorizedKey: dir.join("nope.pub"))
            await expectIconError(.notFound) { try await missing.apply(to: Self.context(dir.join("root"), runner: runner)) }
        }
    }
}
