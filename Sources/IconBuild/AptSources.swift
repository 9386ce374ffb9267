import Foundation
import IconCore

/// The host's apt sources, read from `/etc/apt/sources.list` (one-line format) and
/// `/etc/apt/sources.list.d/` (`*.list` one-line, `*.sources` deb822), so the builder uses
/// the mirror the host is configured with instead of a hard-coded one.
public struct AptSources: Hashable, Sendable {
    /// One source: a set of URIs serving some suites and components.
    public struct Entry: Hashable, Sendable {
        public var types: [String]
        public var uris: [String]
        public var suites: [String]
        public var components: [String]

        public init(types: [String] = ["deb"], uris: [String], suites: [String], components: [String]) {
            self.types = types
            self.uris = uris
            self.suites = suites
            self.components = components
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Reads the sources below `root` (`/` for the host).
    ///
    /// - Throws: `IconError.Code.io` when a sources file exists but cannot be read.
    public static func load(root: String = "/") throws -> AptSources {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        var entries: [Entry] = []
        let main = "\(base)/etc/apt/sources.list"
        if FileManager.default.fileExists(atPath: main) {
            entries += parseOneLine(try read(main))
        }
        let directory = "\(base)/etc/apt/sources.list.d"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() {
            if name.hasSuffix(".list") {
                entries += parseOneLine(try read("\(directory)/\(name)"))
            } else if name.hasSuffix(".sources") {
                entries += parseDeb822(try read("\(directory)/\(name)"))
            }
        }
        return AptSources(entries: entries)
    }

    private static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw IconError(.io, "cannot read apt sources \(path)", cause: error)
        }
    }

    /// Parses `deb [options] URI suite component...` lines; comments and `deb-src` are skipped.
    public static func parseOneLine(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        for rawLine in text.split(separator: "\n") {
            var line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            // Drop "[ option=value ... ]" blocks.
            while let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close {
                line.removeSubrange(open...close)
            }
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count >= 3, words[0] == "deb" else { continue }
            entries.append(Entry(types: ["deb"], uris: [words[1]], suites: [words[2]], components: Array(words.dropFirst(3))))
        }
        return entries
    }

    /// Parses deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Components:`); disabled stanzas
    /// (`Enabled: no`) and stanzas without `deb` are skipped.
    public static func parseDeb822(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        var fields: [String: String] = [:]
        var lastKey: String?
        func finish() {
            defer { fields = [:]; lastKey = nil }
            let words = { (key: String) in (fields[key] ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
            guard words("types").contains("deb"), fields["enabled"]?.lowercased() != "no" else { return }
            let uris = words("uris"), suites = words("suites")
            guard !uris.isEmpty, !suites.isEmpty else { return }
            entries.append(Entry(types: words("types"), uris: uris, suites: suites, components: words("components")))
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                finish()
                continue
            }
            if line.hasPrefix("#") { continue }
            if line.first?.isWhitespace == true, let key = lastKey {
                // A continuation line (e.g. a multi-line Signed-By key).
                fields[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
        }
        finish()
        return entries
    }

    /// The main archive: the first URI serving a suite that is not a security suite.
    public var mainArchive: String? {
        entries.first { $0.suites.contains { !$0.hasSuffix("-security") && !$0.hasSuffix("/updates") } }?.uris.first
    }

    /// The security archive: the first URI serving a `*-security` suite.
    public var securityArchive: String? {
        entries.first { $0.suites.contains { $0.hasSuffix("-security") } }?.uris.first
    }
}
