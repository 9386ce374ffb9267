import Foundation
import Testing

/// The README's table of attacks names every test of this suite, each under its class, so the
/// manual never claims a defence no test covers, nor misses one.
@Suite("Attack catalogue")
struct AttackCatalogueTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let readme = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    /// Test name → the class of its suite (`Attacks: rollback` → `rollback`), from the sources.
    static func testsInSources() throws -> [String: String] {
        var tests: [String: String] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: testsDirectory.path)
            .filter { $0.hasSuffix("Attacks.swift") }
        for file in files {
            let text = try String(contentsOf: testsDirectory.appendingPathComponent(file), encoding: .utf8)
            var suite = ""
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("@Suite(\"Attacks: "), let end = trimmed.dropFirst(17).firstIndex(of: "\"") {
                    suite = String(trimmed.dropFirst(17)[..<end])
                } else if trimmed.hasPrefix("@Test func "), let end = trimmed.firstIndex(of: "(") {
                    tests[String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 11)..<end])] = suite
                }
            }
        }
        return tests
    }

    /// Test name → the class its README row is under.
    static func testsInReadme() throws -> [String: String] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "| Class | Attack | Code | Test |"))
        var tests: [String: String] = [:]
        var currentClass = ""
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2) {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count >= 6 else { continue }
            if !cells[1].isEmpty { currentClass = cells[1].lowercased() }
            tests[cells[4].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = currentClass
        }
        return tests
    }

    @Test func theReadmeNamesEveryAttackTestUnderItsClass() throws {
        let sources = try Self.testsInSources()
        let readme = try Self.testsInReadme()
        #expect(sources.count >= 40, "the suite has \(sources.count) attacks")
        #expect(Set(sources.keys).subtracting(readme.keys).sorted() == [], "tests the README does not list")
        #expect(Set(readme.keys).subtracting(sources.keys).sorted() == [], "README rows without a test")
        for (test, suite) in sources {
            guard let listed = readme[test] else { continue }
            #expect(suite.hasPrefix(listed), "\(test) is in \(suite) but listed under \(listed)")
        }
    }
}
