import ArgumentParser
import IconBuild
@testable import IconCommands
import IconCore
import IconTestSupport
import Testing

/// The flag groups shared by a command and the module that installs it: what a module writes
/// parses back to the same options, and a module refuses what its command would refuse.
@Suite struct ComponentOptionsTests {
    @Test func imagerOptionsRenderBackToTheSameOptions() throws {
        for words in [
            ["--device", "/dev/sda", "--base-url", "https://h/image/kiosk"],
            ["--device", "/dev/nvme0n1", "--base-url", "https://h:8443", "--image-type", "kiosk", "--persistent-percent", "99",
             "--firmware", "both"],
        ] {
            let options = try ImagerOptions.parse(words)
            #expect(try ImagerOptions.parse(options.arguments()) == options, "\(words)")
            // With the module's file flags among them, icon image reads the same options.
            let image = try DeviceImage.parse(options.arguments(trust: ["--ca-cert", "/etc/icon/autoimage/ca.pem"]))
            #expect(image.disk == options)
            #expect(image.caCert == "/etc/icon/autoimage/ca.pem")
        }
    }

    @Test func certClientOptionsRenderBackToTheSameOptions() throws {
        for words in [
            ["--server", "https://certs:8444", "--tag", "www", "--subject", "/O=A \"B\"/CN=SYSTEMID"],
            ["--server", "https://certs:8444", "--tag", "eap", "--subject", "/CN=SYSTEMID", "--dh-bits", "3072"],
        ] {
            let options = try CertClientOptions.parse(words)
            #expect(try CertClientOptions.parse(options.arguments()) == options, "\(words)")
            let client = try CertClient.parse(options.arguments(placing: CertclientModule.installedFileArguments(tag: options.tag)))
            #expect(client.request == options)
            #expect(client.httpsClientKey == "/etc/icon/certclient-\(options.tag)/client.key")
        }
    }

    static func autoimage(_ extra: [String]) throws -> AutoimageModule {
        try ModuleAutoimage.parse(
            ["--chroot-path", "/x", "--base-url", "https://h/image/kiosk", "--ca-cert", "/c", "--device", "/dev/sda"] + extra
        ).module()
    }

    static func certclient(_ extra: [String]) throws -> CertclientModule {
        try ModuleCertclient.parse(
            ["--chroot-path", "/x", "--server", "https://certs:8444", "--https-ca-cert", "/c", "--https-client-cert", "/c",
             "--https-client-key", "/k", "--tag", "www", "--subject", "/CN=SYSTEMID"] + extra
        ).module()
    }

    @Test func modulesRefuseWhatTheirCommandsRefuse() throws {
        // Before, these reached the image and failed at boot on the target machine.
        let percent = expectIconError(.invalidArgument) { try Self.autoimage(["--persistent-percent", "150"]) }
        #expect(percent?.message == "--persistent-percent must be 0 to 99, not 150")
        let firmware = expectIconError(.invalidArgument) { try Self.autoimage(["--firmware", "efi"]) }
        #expect(firmware?.message == "--firmware must be bios, uefi or both, not 'efi'")
        expectIconError(.invalidArgument) { try Self.certclient(["--dh-bits", "1234"]) }
        expectIconError(.invalidArgument) {
            try ModuleCertclient.parse(
                ["--chroot-path", "/x", "--server", "s", "--https-ca-cert", "/c", "--https-client-cert", "/c",
                 "--https-client-key", "/k", "--tag", "../x", "--subject", "/CN=SYSTEMID"]
            ).module()
        }
    }

    @Test func modulesWriteTheCommandsOwnWords() throws {
        let image = try Self.autoimage(["--image-type", "kiosk", "--https-ca-cert", "/h", "--firmware", "uefi"])
        #expect(image.command() == [
            "/usr/local/bin/icon", "image", "--yes", "--device", "/dev/sda", "--base-url", "https://h/image/kiosk",
            "--ca-cert", "/etc/icon/autoimage/ca.pem", "--persistent-percent", "0", "--image-type", "kiosk",
            "--firmware", "uefi", "--https-ca-cert", "/etc/icon/autoimage/https-ca.pem",
        ])
        let client = try Self.certclient(["--dh-bits", "2048"])
        #expect(client.command().suffix(8) == [
            "--https-client-key", "/etc/icon/certclient-www/client.key", "--tag", "www", "--subject", "/CN=SYSTEMID",
            "--dh-bits", "2048",
        ])
    }
}
