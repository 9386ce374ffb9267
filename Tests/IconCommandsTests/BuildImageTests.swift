import Foundation
import IconBuild
import IconCore
import IconTestSupport
import Testing

@testable import IconCommands
import ArgumentParser

@Suite struct BuildImageTests {
    @Test func refusesClearlyWhenNotRoot() throws {
        let error = try #require(throws: IconError.self) { try BuildImage.requireRoot(effectiveUserID: 1000) }
        #expect(error.code == .permission)
        #expect(error.message.contains("root"))
        try BuildImage.requireRoot(effectiveUserID: 0)
    }

    @Test func flagsBecomeOptions() throws {
        let command = try BuildImage.parse([
            "--image-path", "/srv/images", "--image-type", "server", "--release", "bookworm",
            "--package", "openssh-server", "--package", "vim", "--module", "/m/a --x", "--module", "/m/b",
            "--kernel-arg", "console=ttyS0", "--volume-id", "MY VOL", "--timestamp", "1700000000",
            "--compression", "xz", "--no-cache",
        ])
        let options = try command.makeOptions(environment: [:], now: Date(timeIntervalSince1970: 5))
        #expect(options.flavor == .debian)
        #expect(options.packages == ["openssh-server", "vim"])
        #expect(options.modules == ["/m/a --x", "/m/b"])
        #expect(options.kernelArguments == ["console=ttyS0"])
        #expect(options.volumeID == "MY VOL")
        #expect(options.isoPath == "/srv/images/server/1700000000.iso")
        #expect(options.compression == "xz")
        #expect(options.cacheDirectory == nil)
        #expect(options.sourceDateEpoch == nil)
    }

    @Test func sourceDateEpochPinsTheTimestampAndNowIsTheDefault() throws {
        let command = try BuildImage.parse(["--image-path", "/i", "--image-type", "t", "--release", "noble", "--archive", "http://u/ubuntu"])
        let pinned = try command.makeOptions(environment: ["SOURCE_DATE_EPOCH": "1600000000"], now: Date(timeIntervalSince1970: 5))
        #expect(pinned.timestamp == 1_600_000_000)
        #expect(pinned.sourceDateEpoch == 1_600_000_000)
        #expect(pinned.flavor == .ubuntu)
        #expect(pinned.cacheDirectory == "/var/cache/iconograph")
        let now = try command.makeOptions(environment: [:], now: Date(timeIntervalSince1970: 1_234_567_890))
        #expect(now.timestamp == 1_234_567_890)
    }

    @Test func badFlagsAreNamed() throws {
        let flavor = try BuildImage.parse(["--image-path", "/i", "--image-type", "t", "--release", "bookworm", "--flavor", "arch"])
        let error = try #require(throws: IconError.self) { try flavor.makeOptions(environment: [:], now: Date()) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("--flavor"))
        let unknown = try BuildImage.parse(["--image-path", "/i", "--image-type", "t", "--release", "mystery"])
        let unknownError = try #require(throws: IconError.self) { try unknown.makeOptions(environment: [:], now: Date()) }
        #expect(unknownError.code == .invalidArgument)
        #expect(unknownError.message.contains("--flavor"))
        let volume = try BuildImage.parse(["--image-path", "/i", "--image-type", "t", "--release", "bookworm", "--volume-id", String(repeating: "x", count: 40)])
        let volumeError = try #require(throws: IconError.self) { try volume.makeOptions(environment: [:], now: Date()) }
        #expect(volumeError.code == .invalidArgument)
        #expect(volumeError.message.contains("--volume-id"))
    }

    @Test func helpDocumentsEveryFlag() {
        let help = BuildImage.helpMessage()
        for flag in ["--image-path", "--image-type", "--release", "--arch", "--archive", "--flavor", "--package", "--module",
                     "--kernel-arg", "--volume-id", "--timestamp", "--compression", "--work-dir", "--cache-dir", "--no-cache",
                     "--pre-module-shell", "--post-module-shell"] {
            #expect(help.contains(flag), "help lacks \(flag)")
        }
        #expect(help.contains("Example"))
    }
}
