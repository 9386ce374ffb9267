import Foundation
import IconCore
import IconPKI
import IconTestSupport
import Testing

@testable import IconManifest

/// The duplicate-key scanner: exact on strings and escapes, checked against generated JSON
/// with known duplicates and against Foundation's parser on mutated text.
@Suite struct JSONKeyScanTests {
    static func scan(_ text: String) -> JSONKeyScan.Outcome { JSONKeyScan.scan(Array(text.utf8)) }

    @Test func cleanJSONIsClean() {
        for text in [
            "{}", "[]", "0", "-0.5e+3", "\"x\"", "true", "null", " { \"a\" : [ 1 , { \"a\" : 2 } ] , \"b\" : {} } ",
            #"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#, "\u{FEFF}{}",
            #"{"k\"ey": 1, "k\\ey": 2, "{\"}": 3, "a,b": 4, "é": 5}"#,
        ] {
            #expect(Self.scan(text) == .clean, "\(text)")
        }
    }

    @Test func duplicatesAreFoundWithTheirObject() {
        #expect(Self.scan(#"{"a": 1, "a": 2}"#) == .duplicate(key: "a", path: ""))
        #expect(Self.scan(#"{"images": [{"hash": "x"}, {"hash": "y", "hash": "z"}]}"#) == .duplicate(key: "hash", path: "images[1]"))
        #expect(Self.scan(#"{"a": {"b": {"c": 1, "c": 2}}}"#) == .duplicate(key: "c", path: "a.b"))
        // Escapes are decoded: these are the same key to every JSON reader.
        #expect(Self.scan(#"{"inner": 1, "\u0069nner": 2}"#) == .duplicate(key: "inner", path: ""))
        #expect(Self.scan(#"{"\/": 1, "/": 2}"#) == .duplicate(key: "/", path: ""))
        #expect(Self.scan(#"{"\ud83d\ude00": 1, "😀": 2}"#) == .duplicate(key: "😀", path: ""))
        #expect(Self.scan(#"{"\u00e9": 1, "é": 2}"#) == .duplicate(key: "é", path: ""))
        // A key inside a string value is not a key.
        #expect(Self.scan(#"{"a": "\"a\": 2", "b": "}{\"a\":"}"#) == .clean)
    }

    @Test func invalidTextIsInvalid() {
        for text in [
            "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\u{1}\"", "\"abc",
            "{} {}", "tru", "[1 2]", "{\"a\" 1}", "\"\\u12\"", String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        ] {
            guard case .invalid = Self.scan(text) else {
                Issue.record("\(text.prefix(40)) was not refused: \(Self.scan(text))")
                continue
            }
        }
    }

    /// A deterministic generator (SplitMix64), so a failure repeats.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// A random key from a small alphabet (so duplicates happen), written with random escapes.
    static func key(_ random: inout Random) -> (decoded: String, text: String) {
        let alphabet: [Character] = ["a", "b", "\"", "\\", "é", "😀", "/", "{", ","]
        var decoded = ""
        var text = "\""
        for _ in 0..<(1 + random.below(2)) {
            let character = alphabet[random.below(alphabet.count)]
            decoded.append(character)
            switch (character, random.below(3)) {
            case ("\"", _): text += "\\\""
            case ("\\", _): text += "\\\\"
            case (_, 0): text += character.utf16.map { "\\u" + String(format: "%04x", $0) }.joined()
            case ("/", 1): text += "\\/"
            default: text.append(character)
            }
        }
        return (decoded, text + "\"")
    }

    /// A random JSON value and whether some object in it has a key twice.
    static func value(_ random: inout Random, depth: Int) -> (text: String, duplicate: Bool) {
        switch depth > 3 ? random.below(3) : random.below(6) {
        case 0: return (["0", "-1.5e3", "true", "null", "\"s\\\"}\""][random.below(5)], false)
        case 1: return ("\"" + String(repeating: "x", count: random.below(4)) + "\"", false)
        case 2: return ("[]", false)
        case 3:
            var parts: [String] = []
            var duplicate = false
            for _ in 0..<random.below(4) {
                let element = value(&random, depth: depth + 1)
                parts.append(element.text)
                duplicate = duplicate || element.duplicate
            }
            return ("[" + parts.joined(separator: ",") + "]", duplicate)
        default:
            var parts: [String] = []
            var keys: Set<String> = []
            var duplicate = false
            for _ in 0..<random.below(5) {
                let (decoded, text) = key(&random)
                if !keys.insert(decoded).inserted { duplicate = true }
                let member = value(&random, depth: depth + 1)
                duplicate = duplicate || member.duplicate
                parts.append(text + [":", " : ", ":\n"][random.below(3)] + member.text)
            }
            return ("{" + parts.joined(separator: ", ") + "}", duplicate)
        }
    }

    @Test("generated JSON: duplicates found exactly when the model has them")
    func generatedJSONAgreesWithTheModel() throws {
        var random = Random(state: 11)
        var duplicates = 0
        for round in 0..<3000 {
            let (text, duplicate) = Self.value(&random, depth: 0)
            let outcome = Self.scan(text)
            if duplicate {
                duplicates += 1
                guard case .duplicate = outcome else {
                    Issue.record("round \(round): \(text) has a duplicate key, scan says \(outcome)")
                    continue
                }
            } else {
                #expect(outcome == .clean, "round \(round): \(text)")
            }
            // Foundation agrees the text is JSON.
            #expect(throws: Never.self, "round \(round): \(text)") {
                _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            }
        }
        #expect(duplicates > 100)
    }

    /// Python's verdict on each text, as the original reads manifests: "invalid", "valid",
    /// or "surrogate" (valid to Python, but with an unpaired surrogate escape).
    static func pythonVerdicts(_ texts: [[UInt8]]) throws -> [String] {
        let script = """
            import base64, json, sys
            out = []
            for item in json.load(sys.stdin):
                try:
                    # Every member kept (a duplicate's dropped value may hold the surrogate).
                    value = json.loads(base64.b64decode(item), object_pairs_hook=lambda pairs: [list(p) for p in pairs])
                except ValueError:
                    out.append("invalid")
                    continue
                try:
                    json.dumps(value, ensure_ascii=False).encode("utf-8")
                    out.append("valid")
                except UnicodeEncodeError:
                    out.append("surrogate")
            json.dump(out, sys.stdout)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let request = try JSONSerialization.data(withJSONObject: texts.map { Data($0).base64EncodedString() })
        input.fileHandleForWriting.write(request)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode([String].self, from: data)
    }

    @Test("mutated JSON: the scan refuses exactly what Python's json refuses (and unpaired surrogates)")
    func mutatedJSONAgreesWithPython() throws {
        var random = Random(state: 7)
        let bytes = Array(#"{}[]",:\ u0aeE.-+1tfn"#.utf8)
        var texts: [[UInt8]] = []
        for _ in 0..<5000 {
            var text = Array(Self.value(&random, depth: 0).text.utf8)
            for _ in 0..<(1 + random.below(2)) where !text.isEmpty {
                let at = random.below(text.count)
                switch random.below(3) {
                case 0: text.remove(at: at)
                case 1: text.insert(bytes[random.below(bytes.count)], at: at)
                default: text[at] = bytes[random.below(bytes.count)]
                }
            }
            texts.append(text)
        }
        let verdicts = try Self.pythonVerdicts(texts)
        try #require(verdicts.count == texts.count)
        var invalid = 0
        for (round, (text, python)) in zip(texts, verdicts).enumerated() {
            let shown = String(decoding: text, as: UTF8.self)
            switch JSONKeyScan.scan(text) {
            case .invalid(let reason):
                invalid += 1
                #expect(python != "valid", "round \(round): Python reads what the scan refuses (\(reason)): \(shown.debugDescription)")
            case .clean:
                #expect(python == "valid", "round \(round): the scan accepts what Python refuses: \(shown)")
                // Foundation, which decodes the manifest, reads it too.
                #expect((try? JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)) != nil, "round \(round): \(shown)")
            case .duplicate:
                // The scan stops at the first duplicate; what follows is not judged.
                break
            }
        }
        #expect(invalid > 1000)
    }

    @Test func aManifestWithADuplicateKeyIsRefusedNamingIt() throws {
        let text = #"{"images": [{"hash": "aa", "hash": "bb", "rollout_\u2031": 1, "timestamp": 1, "volume_id": "v"}], "timestamp": 2}"#
        let error = try #require(throws: IconError.self) { try Manifest.decode(Data(text.utf8), source: "m.json") }
        #expect(error.code == .malformed)
        #expect(error.message == "m.json is not a valid manifest: duplicate key \"hash\" in images[0]" + JSONKeyScan.ambiguity)
    }

    /// The compat manifest with `inner` given twice: we would read one text, Python the other.
    @Test func aSignedManifestWithADuplicateKeyIsRejected() async throws {
        let path = CompatVectors.path("images/demo/manifest.json")
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let doubled = original.replacingOccurrences(of: "\"inner\": ", with: "\"inner\": \"{}\", \"inner\": ")
        #expect(doubled != original)
        let verifier = try ChainVerifier(rootsFile: CompatVectors.path("pki/root.cert.pem"))
        let verdict = await SignedManifest.verify(Data(doubled.utf8), verifier: verifier, now: Date())
        guard case .rejected(let reason) = verdict else {
            Issue.record("accepted a manifest with inner twice")
            return
        }
        #expect(reason.contains("duplicate key \"inner\" in the top-level object"), "\(reason)")
        // Untouched, it verifies.
        let fine = await SignedManifest.verify(Data(original.utf8), verifier: verifier, now: Date())
        guard case .verified = fine else {
            Issue.record("the compat manifest was rejected: \(fine)")
            return
        }
    }
}
