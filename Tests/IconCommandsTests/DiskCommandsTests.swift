import ArgumentParser
import Foundation
import Glibc
@testable import IconCommands
import IconCore
import IconProvision
import IconTestSupport
import IconUpdate
import Testing


#if canImport(Glibc)
#endif

@Suite("icon image and icon systemid image flags")
struct DiskCommandsTests {
    @Test func imageTypeIsAppendedToTheBaseURL() {
        #expect(DeviceImage.imageURL(baseURL: "https://h:8443/", imageType: "server") == "https://h:8443/image/server")
        #expect(DeviceImage.imageURL(baseURL: "https://h/image/demo", imageType: nil) == "https://h/image/demo")
    }

    @Test func flagsBecomeTheImagerConfiguration() throws {
        let command = try DeviceImage.parse([
            "--device", "/tmp/d.img", "--persistent-percent", "40", "--base-url", "https://h:8443",
            "--image-type", "kiosk", "--ca-cert", "/ca.pem", "--https-client-cert", "/c.pem",
            "--https-client-key", "/k.pem", "--firmware", "both", "--hostname", "kiosk-7", "--timestamp", "1700000000", "--yes",
        ])
        let configuration = try command.makeConfiguration()
        #expect(configuration.firmware == .both)
        #expect(configuration.persistentPercent == 40)
        #expect(configuration.fetch.baseURL == "https://h:8443/image/kiosk")
        #expect(configuration.fetch.hostname == "kiosk-7")
        #expect(configuration.fetch.forcedTimestamp == 1_700_000_000)
        #expect(configuration.fetch.httpsClientKey == "/k.pem")
        #expect(try configuration.confirm("erase? "))
    }

    @Test func badFlagsAreOneLineErrorsNamingTheFlag() throws {
        let base = ["--device", "/tmp/d.img", "--base-url", "https://h", "--ca-cert", "/ca.pem"]
        for (extra, flag) in [
            (["--firmware", "coreboot"], "--firmware"), (["--persistent-percent", "100"], "--persistent-percent"),
            (["--https-client-cert", "/c.pem"], "--https-client-key"),
        ] {
            do {
                _ = try DeviceImage.parse(base + extra).makeConfiguration()
                Issue.record("\(extra) accepted")
            } catch let error as IconError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(flag))
            }
        }
    }

    @Test(.enabled(if: isatty(STDIN_FILENO) == 0, "checks what happens without a terminal; standard input is one here"))
    func withoutTerminalAndWithoutYesErasingIsRefused() {
        let confirm = EraseConfirmation.make(yes: false, device: "/dev/sdx")
        expectIconError(.notConfirmed) { try confirm("erase /dev/sdx (8 GiB)? [y/N] ") }
    }

    @Test(.requiresRoot("loop devices"), .requiresExecutable("parted", package: "parted"), .tags(.loopDevices))
    func systemIDImageRunsOnADiskFile() async throws {
        try await withTemporaryDirectory(prefix: "icon-systemid-cmd") { dir in
            let disk = dir.join("id.img")
            _ = FileManager.default.createFile(atPath: disk, contents: nil)
            try FileHandle(forWritingAtPath: disk)!.truncate(atOffset: 32 << 20)
            let command = try SystemIDImage.parse(["--device", disk, "--db-dir", dir.join("db"), "--yes"])
            try await command.run()
            let ids = try SystemIDDatabase(directory: dir.join("db")).ids()
            #expect(ids.count == 1)
            #expect(ids.first?.count == 6)
        }
    }
}
