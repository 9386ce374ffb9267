import Foundation
import IconCore

/// GRUB's environment block file (`grub/grubenv`), read and written in exactly GRUB's format:
/// the line `# GRUB Environment Block`, one `key=value` line per variable, then `#` padding
/// to exactly 1024 bytes.
///
/// GRUB's `save_env` rewrites the sectors of the existing file in place and cannot create or
/// grow it, so the file must always exist at its full size; ``write(to:)`` replaces it as a
/// whole through `AtomicFile`, so a power loss leaves the old or the new block, never a mix.
///
/// The boot-safety keys (see ``GrubMenu``): ``Key/good``, ``Key/pending``, ``Key/tries``,
/// ``Key/failed``. Other variables in the file (say `saved_entry`) are kept as read; comment
/// lines are dropped on rewrite.
public struct GrubEnvironment: Sendable, Equatable {
    /// The boot-safety variable names.
    public enum Key {
        /// Timestamp of the last image marked good.
        public static let good = "icon_good"
        /// Timestamp of an image switched to but not yet proven.
        public static let pending = "icon_pending"
        /// Boot tries left for the pending image.
        public static let tries = "icon_tries"
        /// Set by GRUB to the pending image's timestamp when it ran out of tries.
        public static let failed = "icon_failed"
    }

    /// The size of every environment block file.
    public static let blockSize = 1024
    /// The first line of the file.
    public static let header = "# GRUB Environment Block\n"

    /// The variables in file order.
    public private(set) var variables: [(key: String, value: String)]

    public init(_ variables: [(key: String, value: String)] = []) {
        self.variables = variables
    }

    public static func == (lhs: GrubEnvironment, rhs: GrubEnvironment) -> Bool {
        lhs.variables.map(\.key) == rhs.variables.map(\.key) && lhs.variables.map(\.value) == rhs.variables.map(\.value)
    }

    /// The value of `key`, nil when unset. Setting nil removes the variable; setting a value
    /// keeps its position or appends it.
    public subscript(key: String) -> String? {
        get { variables.first { $0.key == key }?.value }
        set {
            if let newValue {
                if let index = variables.firstIndex(where: { $0.key == key }) {
                    variables[index].value = newValue
                } else {
                    variables.append((key, newValue))
                }
            } else {
                variables.removeAll { $0.key == key }
            }
        }
    }

    /// The value of `key` as a timestamp; nil when unset, empty or not all digits.
    public func timestamp(_ key: String) -> Int? {
        guard let value = self[key], !value.isEmpty, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int(value)
    }

    /// Parses the bytes of an environment block.
    ///
    /// - Throws: `.malformed` naming `source` when the header is missing or a line has no `=`.
    public init(bytes: some Collection<UInt8>, source: String) throws {
        let header = Array(Self.header.utf8)
        let all = Array(bytes)
        guard all.starts(with: header) else {
            throw IconError(.malformed, "\(source) is not a GRUB environment block (no '# GRUB Environment Block' line)")
        }
        var variables: [(key: String, value: String)] = []
        var index = header.count
        // Like GRUB, lines starting with `#` are comments (grub-editenv writes a warning line;
        // the padding is one long comment); backslash escapes the next byte, which is how
        // GRUB stores `\` and newlines inside values.
        while index < all.count {
            if all[index] == UInt8(ascii: "#") {
                while index < all.count, all[index] != UInt8(ascii: "\n") { index += 1 }
                index += 1
                continue
            }
            var line: [UInt8] = []
            var escaped = false
            while index < all.count {
                let byte = all[index]
                index += 1
                if escaped {
                    line.append(byte)
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                    line.append(byte)
                } else if byte == UInt8(ascii: "\n") {
                    break
                } else {
                    line.append(byte)
                }
            }
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw IconError(.malformed, "\(source): line '\(String(decoding: line, as: UTF8.self))' has no '='")
            }
            let key = String(decoding: line[..<equals], as: UTF8.self)
            variables.append((key, Self.unescape(Array(line[(equals + 1)...]))))
        }
        self.variables = variables
    }

    static func unescape(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if !escaped && byte == UInt8(ascii: "\\") {
                escaped = true
                continue
            }
            escaped = false
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 1024-byte block.
    ///
    /// - Throws: `.invalidArgument` when a key is not letters, digits and `_`, or the
    ///   variables do not fit in the block.
    public func bytes() throws -> [UInt8] {
        var out = Array(Self.header.utf8)
        for (key, value) in variables {
            guard !key.isEmpty, key.utf8.allSatisfy({ Self.isNameByte($0) }) else {
                throw IconError(.invalidArgument, "GRUB environment variable name '\(key)' must be letters, digits and '_'")
            }
            out += Array(key.utf8) + [UInt8(ascii: "=")]
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\n"))
        }
        guard out.count <= Self.blockSize else {
            throw IconError(.invalidArgument, "GRUB environment variables need \(out.count) bytes, more than the \(Self.blockSize)-byte block")
        }
        out += [UInt8](repeating: UInt8(ascii: "#"), count: Self.blockSize - out.count)
        return out
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// `<bootDir>/grub/grubenv`, where GRUB's plain `load_env` looks (`$prefix/grubenv`).
    public static func path(bootDir: String) -> String {
        "\(bootDir)/grub/grubenv"
    }

    /// Reads the file at `path`; an absent file is an empty environment.
    ///
    /// - Throws: `.io` naming the file when it cannot be read, `.malformed` when it is not a block.
    public static func read(path: String) throws -> GrubEnvironment {
        // Never a blocking open: a FIFO there is an error, not a hang.
        guard let data = try RegularFile.contents(atPath: path) else { return GrubEnvironment() }
        return try GrubEnvironment(bytes: data, source: path)
    }

    /// Replaces the file at `path` atomically with the full 1024-byte block, creating the
    /// directory when needed.
    ///
    /// - Throws: `.invalidArgument` (see ``bytes()``), `.io` naming the file.
    public func write(to path: String) throws {
        let block = try bytes()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw IconError(.io, "cannot create \(directory)", cause: error)
            }
        }
        try AtomicFile.write(block, to: path, mode: 0o644)
    }
}
