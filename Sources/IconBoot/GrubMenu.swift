import IconCore

/// The outer GRUB menu of a boot disk: one entry per ISO, each loop-mounting the ISO and
/// handing over to the GRUB configuration inside it, as the original's boot-menu writer does.
///
/// Before the entries, a fixed header counts boot tries of a pending image in grubenv and
/// falls back to the last good one (see ``bootSafetyHeader()`` and ``GrubEnvironment``).
/// Rendering is pure so that callers can reason about the text without touching disks.
public struct GrubMenu: Sendable, Equatable {
    /// One ISO offered in the menu.
    public struct Entry: Sendable, Equatable {
        /// The image timestamp (the file name without `.iso`).
        public var timestamp: Int
        /// The file name, which must be `<digits>.iso`.
        public var fileName: String
        /// The ISO 9660 volume identifier, shown in the title; empty when unknown.
        public var volumeID: String

        public init(timestamp: Int, fileName: String, volumeID: String) {
            self.timestamp = timestamp
            self.fileName = fileName
            self.volumeID = volumeID
        }
    }

    /// An ISO left out of the menu and why.
    public struct Skipped: Sendable, Equatable {
        public var fileName: String
        public var reason: String
    }

    /// Hotkeys in entry order; entries past the 62nd get none.
    static let hotkeys = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// Entries as they appear in the menu, newest first.
    public let entries: [Entry]
    /// Entries refused because their file name could carry GRUB syntax.
    public let skipped: [Skipped]
    /// Index of the default entry (the current image, else the newest).
    public let defaultIndex: Int
    /// Index of the newest entry other than the default; nil with a single entry.
    public let fallbackIndex: Int?
    /// Where the ISOs live as GRUB sees the boot partition, e.g. `/iconograph`.
    public let pathPrefix: String

    /// Builds a menu.
    ///
    /// - Parameters:
    ///   - entries: the ISOs in any order.
    ///   - current: file name of the image to boot by default; the newest when nil or absent.
    ///   - pathPrefix: the image directory as GRUB sees the boot partition, e.g. `/iconograph`;
    ///     it appears unquoted in `search`, so it may only hold letters, digits, `.`, `_`,
    ///     `-` and `/`.
    /// - Throws: `IconError.Code.invalidArgument` naming the prefix when it holds other
    ///   characters, is not absolute or contains `..`.
    public init(entries: [Entry], current: String?, pathPrefix: String) throws {
        guard Self.isSafePath(pathPrefix) else {
            throw IconError(
                .invalidArgument,
                "image path \(pathPrefix) as GRUB sees it must be absolute and hold only letters, digits, '.', '_', '-' and '/'")
        }
        var prefix = pathPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.pathPrefix = prefix
        var accepted: [Entry] = []
        var skipped: [Skipped] = []
        for entry in entries {
            if Self.isSafeFileName(entry.fileName) {
                accepted.append(entry)
            } else {
                skipped.append(Skipped(fileName: entry.fileName, reason: "file name is not <digits>.iso"))
            }
        }
        accepted.sort { ($0.timestamp, $0.fileName) > ($1.timestamp, $1.fileName) }
        self.entries = accepted
        self.skipped = skipped
        let defaultIndex = accepted.firstIndex { $0.fileName == current } ?? 0
        self.defaultIndex = defaultIndex
        // Entries are newest first, so the newest other image is entry 0 unless that is the
        // default. The original wrote the default here in that case; a real fallback is better.
        self.fallbackIndex = accepted.count < 2 ? nil : (defaultIndex == 0 ? 1 : 0)
    }

    /// The most boot tries the menu can count down (GRUB script has no arithmetic, so
    /// the header spells out one decrement per value).
    public static let maxBootTries = 9

    /// The boot-safety header, before the entries: loads the boot-safety variables from
    /// `$prefix/grubenv` (BOOT:/grub/grubenv, see ``GrubEnvironment``; a disk without one
    /// boots as before, without an error message) and chooses the image
    /// to boot in `icon_boot`:
    /// - a pending image with tries left: count one try down (`save_env icon_tries`) and boot it;
    /// - a pending image with `icon_tries` 0 or not a number 1 to ``maxBootTries``: record it
    ///   in `icon_failed`, clear `icon_pending` (`save_env icon_failed icon_pending`) and boot
    ///   `icon_good`, when set;
    /// - no pending image but a failure the agent has not yet acknowledged (`icon_failed` set):
    ///   keep booting `icon_good`, because `current` may still name the failed image;
    /// - otherwise nothing: the `current` image is the default as without the header.
    /// Variable values are only ever expanded inside double quotes in `set`, never run.
    public static func bootSafetyHeader() -> String {
        var out = """
            # Boot safety: an image switched to but not yet proven good (icon_pending) gets
            # icon_tries boots; then GRUB records it in icon_failed and boots icon_good.
            set icon_boot=""
            if [ -s "$prefix/grubenv" ]; then
              load_env icon_good icon_pending icon_tries icon_failed
            fi
            if [ -n "$icon_pending" ]; then

            """
        for tries in stride(from: maxBootTries, through: 1, by: -1) {
            out += "  \(tries == maxBootTries ? "if" : "elif") [ \"$icon_tries\" = \"\(tries)\" ]; then\n"
            out += "    set icon_tries=\(tries - 1)\n    save_env icon_tries\n    set icon_boot=\"$icon_pending\"\n"
        }
        out += """
              else
                set icon_failed="$icon_pending"
                set icon_pending=""
                save_env icon_failed icon_pending
                set icon_boot="$icon_good"
              fi
            elif [ -n "$icon_failed" ]; then
              set icon_boot="$icon_good"
            fi

            """
        return out
    }

    /// Whether `text` (the start of a grub.cfg, at least its first 4 KiB) is an Iconograph
    /// outer menu: one ``render()`` wrote, which begins with the two fixed comment lines of the
    /// ``bootSafetyHeader()`` (every menu written since boot safety exists), or one the
    /// original Iconograph wrote (no header: a blank line, then its first `menuentry` loop-
    /// mounting an ISO into `loopback.cfg`). A host's own menu (grub-mkconfig's `# DO NOT EDIT
    /// THIS FILE` header, or a hand-written one) is neither.
    public static func isIconographMenu(_ text: some StringProtocol) -> Bool {
        let header = bootSafetyHeader().split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        if header.count >= 2, text.hasPrefix(header[0] + "\n" + header[1] + "\n") { return true }
        return text.hasPrefix("\nmenuentry \"") && text.contains("\n  export iso_path\n")
            && text.contains("\n  configfile /boot/grub/loopback.cfg\n")
    }

    /// The grub.cfg text: the ``bootSafetyHeader()``, the entries (each with `--id icon-<timestamp>`),
    /// then the settings; `default` and `fallback` are overridden by the header's choice and
    /// the good image.
    public func render() -> String {
        var out = Self.bootSafetyHeader()
        for (index, entry) in entries.enumerated() {
            let path = "\(pathPrefix)/\(entry.fileName)"
            var title = entry.fileName
            let volumeID = Self.stripControlCharacters(entry.volumeID)
            if !volumeID.isEmpty { title += " (\(volumeID))" }
            // The id is the file name's digits (safe by `isSafeFileName`), as grubenv names images.
            let hotkey = index < Self.hotkeys.count ? " --hotkey=\(Self.hotkeys[index])" : ""
            out += """

                menuentry "\(GrubQuote.insideDoubleQuotes(title))"\(hotkey) --id icon-\(entry.fileName.dropLast(4)) {
                  search --no-floppy --file --set=root \(path)
                  iso_path="\(path)"
                  export iso_path
                  loopback loop "\(path)"
                  set root=(loop)
                  configfile /boot/grub/loopback.cfg
                }

                """
        }
        out += "\nset timeout=5\nset default=\(defaultIndex)\n"
        if let fallbackIndex { out += "set fallback=\(fallbackIndex)\n" }
        out += """
            if [ -n "$icon_boot" ]; then
              set default="icon-$icon_boot"
            fi
            if [ -n "$icon_good" ]; then
              set fallback="icon-$icon_good"
            fi

            """
        return out
    }


    static func stripControlCharacters(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !($0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}") }))
    }

    /// Only `<digits>.iso`: such a name cannot carry GRUB syntax, and it is the only name
    /// the rest of Iconograph produces.
    static func isSafeFileName(_ name: String) -> Bool {
        guard name.hasSuffix(".iso") else { return false }
        let digits = name.utf8.dropLast(4)
        return !digits.isEmpty && digits.allSatisfy { (0x30...0x39).contains($0) }
    }

    static func isSafePath(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.split(separator: "/").contains("..")
            && path.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/")
            }
    }
}
