import Foundation
import IconCore
import IconManifest
import IconTestSupport
import IconUpdate
import Testing

/// An attacker (or a broken publisher, or a stolen key) sends text that is not the manifest
/// format: refused before anything is written, in one line, even when validly signed.
@Suite("Attacks: malformed manifests")
struct MalformedManifestAttacks {
    /// The inner text of manifest 1100 with image 200, as `icon publish` writes it.
    static func inner(_ bench: AttackBench) -> String {
        Manifest(timestamp: 1100, images: [bench.entry(200)]).encodedText()
    }

    /// ``inner(_:)`` with `old` (which must be in it) replaced by `new`.
    static func inner(_ bench: AttackBench, replacing old: String, with new: String) throws -> String {
        let text = inner(bench)
        try #require(text.contains(old), "\(old) is not in \(text)")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// Serves `inner` validly signed, and image 200.
    func serveSigned(_ bench: AttackBench, _ inner: String) throws {
        bench.publish(try bench.signedInner(inner), images: [200])
    }

    @Test func anHTMLPageIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.repository.serve("manifest.json", Data("<html><body>502 Bad Gateway</body></html>".utf8))
            try await bench.refused(.malformed, "is not JSON")
        }
    }

    @Test func aTruncatedWrapperIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            bench.publish(signed.prefix(signed.count / 2), images: [200])
            try await bench.refused(.malformed)
        }
    }

    @Test func aDeeplyNestedWrapperIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let depth = 100_000
            let text = "{\"inner\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            bench.repository.serve("manifest.json", Data(text.utf8))
            try await bench.refused(.malformed)
        }
    }

    @Test func aDeeplyNestedSignedManifestIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let depth = 50_000
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            try serveSigned(bench, "{\"images\": [], \"timestamp\": 1100, \"x\": \(nested)}")
            try await bench.refused(.malformed)
        }
    }

    @Test func aWrapperWithTwoInnersIsRefused() async throws {
        // Foundation reads the first, Python the last: refused rather than one of them.
        try await AttackBench.with { bench in
            try await bench.start()
            let good = try bench.signed(1100, [bench.entry(200)])
            let text = try #require(String(data: good, encoding: .utf8))
            let evilText = Manifest(timestamp: 1100, images: [bench.entry(666)]).encodedText()
            let evil = try #require(
                String(data: try JSONSerialization.data(withJSONObject: evilText, options: .fragmentsAllowed), encoding: .utf8))
            let doubled = text.replacingOccurrences(of: "{", with: "{\"inner\": \(evil), ", options: [], range: text.startIndex..<text.index(after: text.startIndex))
            bench.publish(Data(doubled.utf8), images: [200, 666])
            try await bench.refused(.malformed, "duplicate key \"inner\"")
        }
    }

    @Test func aSignedManifestWithADuplicateKeyIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let inner = try Self.inner(
                bench, replacing: "\"timestamp\": 1100", with: "\"timestamp\": 1100, \"timestamp\": 900000")
            try serveSigned(bench, inner)
            try await bench.refused(.malformed, "duplicate key \"timestamp\"")
        }
    }

    @Test func aTimestampThatIsAStringIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try serveSigned(bench, try Self.inner(bench, replacing: "\"timestamp\": 1100", with: "\"timestamp\": \"1100\""))
            try await bench.refused(.malformed, "timestamp")
        }
    }

    @Test func imagesThatAreNotAListAreRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try serveSigned(bench, "{\"images\": {\"200\": true}, \"timestamp\": 1100}")
            try await bench.refused(.malformed, "images")
        }
    }

    @Test func aHugeTimestampIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try serveSigned(
                bench,
                try Self.inner(
                    bench, replacing: "\"timestamp\": 1100", with: "\"timestamp\": 123456789012345678901234567890"))
            try await bench.refused(.malformed)
        }
    }

    @Test func aTimestampBeyondDoubleRangeIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try serveSigned(bench, try Self.inner(bench, replacing: "\"timestamp\": 1100", with: "\"timestamp\": 1e400"))
            try await bench.refused(.malformed)
        }
    }

    @Test func aFractionalRolloutIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            try serveSigned(
                bench, try Self.inner(bench, replacing: "\"rollout_\\u2031\": 10000", with: "\"rollout_\\u2031\": 0.5"))
            try await bench.refused(.malformed)
        }
    }

    @Test func aNegativeImageSizeIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            bench.publish(try bench.signed(1100, [bench.entry(200, size: -1)]), images: [200])
            try await bench.refused(.malformed, "negative")
        }
    }

    @Test func aManifestThatIsNotUTF8IsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            var bytes = [UInt8](signed)
            let quote = try #require(bytes.firstIndex(of: UInt8(ascii: "\"")))
            bytes.insert(contentsOf: [0xC3, 0x28], at: quote + 1)
            bench.publish(Data(bytes), images: [200])
            try await bench.refused(.malformed)
        }
    }

    @Test func aWrapperWhoseFieldsHaveTheWrongTypesIsRefused() async throws {
        try await AttackBench.with { bench in
            try await bench.start()
            let signed = try bench.signed(1100, [bench.entry(200)])
            bench.publish(try bench.rewritten(signed) { $0["sig"] = 42 }, images: [200])
            try await bench.refused(.malformed)
        }
    }
}
