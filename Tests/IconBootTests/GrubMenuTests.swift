import IconCore
import IconTestSupport
import Testing

@testable import IconBoot
import Foundation

@Suite struct GrubMenuTests {
    static func entry(_ timestamp: Int, _ volumeID: String = "V") -> GrubMenu.Entry {
        GrubMenu.Entry(timestamp: timestamp, fileName: "\(timestamp).iso", volumeID: volumeID)
    }

    /// The settings after the entries, the same for every menu with a default and fallback.
    static func trailer(default index: Int, fallback: Int?) -> String {
        "\nset timeout=5\nset default=\(index)\n" + (fallback.map { "set fallback=\($0)\n" } ?? "")
            + "if [ -n \"$icon_boot\" ]; then\n  set default=\"icon-$icon_boot\"\nfi\n"
            + "if [ -n \"$icon_good\" ]; then\n  set fallback=\"icon-$icon_good\"\nfi\n"
    }

    /// The text between the boot-safety header and the settings: the entries.
    static func entriesText(_ text: String) -> Substring {
        let afterHeader = text.dropFirst(GrubMenu.bootSafetyHeader().count)
        return afterHeader[..<(afterHeader.range(of: "\nset timeout=")?.lowerBound ?? afterHeader.endIndex)]
    }

    /// The `menuentry` lines of a rendered menu.
    static func menuLines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix("menuentry") }
    }

    @Test func entriesNewestFirstWithDefaultAndRealFallback() throws {
        let menu = try GrubMenu(entries: [Self.entry(1), Self.entry(3), Self.entry(2)], current: "2.iso", pathPrefix: "/iconograph")
        #expect(menu.entries.map(\.timestamp) == [3, 2, 1])
        #expect(menu.defaultIndex == 1)
        #expect(menu.fallbackIndex == 0)
        let text = menu.render()
        #expect(text.hasPrefix(GrubMenu.bootSafetyHeader()))
        #expect(text.hasSuffix(Self.trailer(default: 1, fallback: 0)))
    }

    @Test func currentIsNewestFallsBackToSecond() throws {
        let menu = try GrubMenu(entries: [Self.entry(1), Self.entry(3), Self.entry(2)], current: "3.iso", pathPrefix: "/i")
        #expect(menu.defaultIndex == 0)
        #expect(menu.fallbackIndex == 1)
    }

    @Test func missingCurrentMeansNewest() throws {
        for current in [nil, "9.iso"] {
            let menu = try GrubMenu(entries: [Self.entry(1), Self.entry(2)], current: current, pathPrefix: "/i")
            #expect(menu.defaultIndex == 0)
            #expect(menu.fallbackIndex == 1)
        }
    }

    @Test func singleImageHasNoFallbackLine() throws {
        let text = try GrubMenu(entries: [Self.entry(5)], current: "5.iso", pathPrefix: "/i").render()
        #expect(!text.contains("set fallback=0") && !text.contains("set fallback=1"))
        #expect(text.hasSuffix(Self.trailer(default: 0, fallback: nil)))
        #expect(Self.menuLines(text) == ["menuentry \"5.iso (V)\" --hotkey=0 --id icon-5 {"])
    }

    @Test func noImagesStillRendersSettings() throws {
        let text = try GrubMenu(entries: [], current: nil, pathPrefix: "/i").render()
        #expect(text == GrubMenu.bootSafetyHeader() + Self.trailer(default: 0, fallback: nil))
    }

    @Test func hotkeysRunOutAfter62Entries() throws {
        let menu = try GrubMenu(entries: (1...70).map { Self.entry($0) }, current: nil, pathPrefix: "/iconograph")
        let lines = Self.menuLines(menu.render())
        #expect(lines.count == 70)
        let keys = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for (index, line) in lines.enumerated() {
            if index < 62 {
                #expect(line.hasSuffix(" --hotkey=\(keys[index]) --id icon-\(70 - index) {"))
            } else {
                #expect(line == "menuentry \"\(70 - index).iso (V)\" --id icon-\(70 - index) {")
            }
        }
    }

    @Test(arguments: [
        "x\" ; reboot; echo \"",
        "$(reboot)",
        "${root}",
        "a\\",
        "back\\\"slash",
        "a\nmenuentry \"evil\" {\n  reboot\n}",
        "tab\there\r\u{0}\u{1b}[2J",
        "`reboot`; {}",
        "\u{85}next\u{2028}line",
    ])
    func hostileVolumeIDsStayInsideTheirQuotes(volumeID: String) throws {
        let menu = try GrubMenu(entries: [Self.entry(2, volumeID), Self.entry(1, "ok")], current: nil, pathPrefix: "/iconograph")
        let text = menu.render()
        let lines = Self.menuLines(text)
        #expect(lines.count == 2)
        let words = try #require(GrubScript.words(String(lines[0])))
        #expect(words == ["menuentry", words[1], "--hotkey=0", "--id", "icon-2", "{"])
        let stripped = String(String.UnicodeScalarView(volumeID.unicodeScalars.filter {
            !($0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}")
        }))
        #expect(words[1] == "2.iso (\(stripped))")
        // The rest of the file is exactly the fixed header, the two fixed entry bodies and the settings.
        #expect(text.hasPrefix(GrubMenu.bootSafetyHeader()))
        #expect(text.hasSuffix(Self.trailer(default: 0, fallback: 1)))
        let entries = Self.entriesText(text)
        #expect(entries.split(separator: "\n").count == 2 * 8)
        let bodyLines = entries.split(separator: "\n").filter { !$0.hasPrefix("menuentry") }
        #expect(bodyLines.allSatisfy { $0.hasPrefix("  ") || $0 == "}" })
        #expect(!bodyLines.contains { $0.contains("reboot") || $0.contains("evil") })
    }

    @Test func hostileFileNamesAreSkippedWithAReason() throws {
        let bad = ["1; reboot.iso", "1\".iso", "$x.iso", "1.iso\n", "../1.iso", ".iso", "1.img"]
        let entries = bad.map { GrubMenu.Entry(timestamp: 1, fileName: $0, volumeID: "v") } + [Self.entry(2)]
        let menu = try GrubMenu(entries: entries, current: nil, pathPrefix: "/i")
        #expect(menu.entries.map(\.fileName) == ["2.iso"])
        #expect(menu.skipped.map(\.fileName) == bad)
        #expect(menu.skipped.allSatisfy { $0.reason.contains("<digits>.iso") })
        #expect(Self.menuLines(menu.render()).count == 1)
    }

    @Test func unsafePrefixesAreRefused() {
        for prefix in ["iconograph", "/a b", "/a\"b", "/a;b", "/a$b", "/../x", "/a{b}", "/a\nb"] {
            expectIconError(.invalidArgument, "\(prefix)") {
                try GrubMenu(entries: [], current: nil, pathPrefix: prefix)
            }
        }
        #expect(throws: Never.self) { try GrubMenu(entries: [], current: nil, pathPrefix: "/boot/icon-images_1.0/") }
    }

    @Test func emptyVolumeIDShowsFileNameOnly() throws {
        let text = try GrubMenu(entries: [Self.entry(7, "")], current: nil, pathPrefix: "/i").render()
        #expect(Self.menuLines(text) == ["menuentry \"7.iso\" --hotkey=0 --id icon-7 {"])
    }
}

/// The checker used above must itself catch a break-out, or the hostile tests prove nothing.
@Suite struct GrubScriptTests {
    @Test func detectsBreakOuts() {
        #expect(GrubScript.words("menuentry \"x\" ; reboot; echo \"\" --hotkey=0 {")?.count == 9)
        #expect(GrubScript.words("menuentry \"a$(x)\" {") == nil)
        #expect(GrubScript.words("menuentry \"open {") == nil)
        #expect(GrubScript.words("menuentry \"a\\\"b \\$c\" --hotkey=0 {") == ["menuentry", "a\"b $c", "--hotkey=0", "{"])
    }
}
