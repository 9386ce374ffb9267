import Foundation
import IconCore
import IconManifest
import IconTestSupport
import IconUpdate
import Logging
import Testing

/// What a manifest names ends up in the machine's boot menu and file names: a signer's mistake
/// (or a stolen key) must not turn it into commands or paths.
@Suite("Attacks: injection")
struct InjectionAttacks {
    @Test func aVolumeIDWithGrubSyntaxStaysInsideItsQuotedTitle() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let evil = "A\"\nlinux /evil $x;`id`\\"
            let iso = MiniISO.bytes(volumeID: evil, seed: 7)
            let entry = ManifestImage(
                timestamp: 200, hash: FileHasher.sha256Hex(of: iso), volumeID: evil, rollout: ManifestImage.fullRollout)
            bench.repository.serve("manifest.json", try bench.signed(1100, [entry]))
            bench.repository.serve("200.iso", iso)
            #expect(try await bench.fetch().image?.timestamp == 200)
            let menu = try String(contentsOfFile: bench.grubConfig, encoding: .utf8)
            #expect(!menu.contains("\nlinux /evil"), "\(menu)")
            let title = try #require(menu.split(separator: "\n").first { $0.hasPrefix("menuentry \"200.iso") })
            #expect(title.contains("A\\\"linux /evil \\$x;`id`\\\\"), "\(title)")
            // GRUB's own parser reads the menu as valid script.
            let check = try await SubprocessToolRunner().run(
                ToolInvocation("/usr/bin/grub-script-check", [bench.grubConfig]), logger: Logger(label: "attack-test"))
            #expect(check.succeeded, "\(check.standardError)")
        }
    }

    @Test func aManifestListingOneImageTwiceIsRefused() async throws {
        // Two entries for 200.iso with two hashes: which one counts must not be up to the reader.
        try await AttackBench.with { bench in
            try await bench.start()
            var other = bench.entry(200)
            other.hash = bench.entry(300).hash
            bench.publish(try bench.signed(1100, [bench.entry(200), other]), images: [200])
            try await bench.refused(.malformed, "image 200 is listed twice")
        }
    }
}
