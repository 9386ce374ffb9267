import Foundation
import IconCore

/// One parsed 512-byte tar header (ustar, with GNU and pax long names applied by the reader).
struct TarHeader: Equatable {
    enum Kind: Equatable {
        case file, directory, symlink, hardlink
        /// pax extended header for the next entry (`x`) or for all (`g`).
        case paxLocal, paxGlobal
        /// GNU long name (`L`) or long link name (`K`) for the next entry.
        case gnuLongName, gnuLongLink
        /// Character/block devices, FIFOs and anything unknown: never extracted.
        case refused(String)
    }

    var name: String
    var linkName: String
    var mode: UInt32
    var size: Int
    var kind: Kind

    static let blockSize = 512

    /// Whether `block` is all zeros (the end-of-archive marker).
    static func isZero(_ block: ArraySlice<UInt8>) -> Bool {
        block.allSatisfy { $0 == 0 }
    }

    /// Parses one header block.
    ///
    /// - Throws: `.malformed` when the checksum or a number field is wrong.
    init(block: ArraySlice<UInt8>, source: String) throws {
        let bytes = Array(block)
        precondition(bytes.count == Self.blockSize)
        // The checksum counts the checksum field itself as eight spaces.
        let stored = try Self.number(bytes[148..<156], field: "checksum", source: source)
        var sum = 0
        for (index, byte) in bytes.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
        guard stored == sum else {
            throw IconError(.malformed, "\(source) is not a tar archive (bad header checksum)")
        }
        let name = Self.string(bytes[0..<100])
        let magic = Self.string(bytes[257..<263])
        let prefix = magic.hasPrefix("ustar") ? Self.string(bytes[345..<500]) : ""
        self.name = prefix.isEmpty ? name : "\(prefix)/\(name)"
        linkName = Self.string(bytes[157..<257])
        mode = UInt32(try Self.number(bytes[100..<108], field: "mode", source: source) & 0o7777)
        size = try Self.number(bytes[124..<136], field: "size", source: source)
        switch bytes[156] {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "1"): kind = .hardlink
        case UInt8(ascii: "x"): kind = .paxLocal
        case UInt8(ascii: "g"): kind = .paxGlobal
        case UInt8(ascii: "L"): kind = .gnuLongName
        case UInt8(ascii: "K"): kind = .gnuLongLink
        case UInt8(ascii: "3"): kind = .refused("character device")
        case UInt8(ascii: "4"): kind = .refused("block device")
        case UInt8(ascii: "6"): kind = .refused("FIFO")
        case let other: kind = .refused("entry of type '\(Character(Unicode.Scalar(other)))'")
        }
        // Links and directories carry no data whatever the size field says.
        if kind == .directory || kind == .symlink || kind == .hardlink { size = 0 }
    }

    /// A NUL-terminated string field.
    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// An octal number field, or GNU base-256 when the top bit of the first byte is set.
    static func number(_ field: ArraySlice<UInt8>, field name: String, source: String) throws -> Int {
        if let first = field.first, first & 0x80 != 0 {
            var value = Int(first & 0x7f)
            for byte in field.dropFirst() {
                guard value < Int.max >> 8 else { throw IconError(.malformed, "\(source): tar \(name) field too large") }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let text = String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int(text, radix: 8), value >= 0 else {
            throw IconError(.malformed, "\(source) is not a tar archive (bad \(name) field '\(text)')")
        }
        return value
    }

    /// The `key=value` records of a pax extended header (`"<len> key=value\n"` each).
    static func paxRecords(_ data: [UInt8], source: String) throws -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
                index + length <= data.count
            else {
                if data[index...].allSatisfy({ $0 == 0 }) { break }
                throw IconError(.malformed, "\(source): bad pax extended header")
            }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}
