import Foundation
import IconCore
import IconTLS

#if canImport(Glibc)
import Glibc
#endif

/// A streaming tar reader that extracts into one directory and refuses anything that could
/// reach outside it: absolute paths, `..` components, symlinks whose target leaves the
/// directory, hard links to anything but an earlier entry, device nodes and FIFOs.
///
/// Reads ustar, GNU long names (`L`/`K`) and pax extended headers (`path`, `linkpath`,
/// `size`). Fed in chunks of any size with ``consume(_:)``, then ``finish()``. The first
/// refused entry stops the extraction with `.unsafeArchiveEntry`: nothing is ever written
/// outside the directory, but what came before stays. Owners are not applied; modes are,
/// without setuid, setgid and sticky bits.
///
/// One instance is used by one thread at a time (the gzip path hands it to a reader thread).
public final class TarExtractor: @unchecked Sendable {
    /// What was extracted.
    public struct Summary: Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        public var hardlinks = 0
        public var bytes = 0
    }

    enum Sink {
        case file(Int32, entry: String)
        case collect(TarHeader.Kind, [UInt8])
    }

    enum State {
        case header
        /// `remaining` data bytes, then `padding` bytes up to the next block.
        case data(remaining: Int, padding: Int, sink: Sink)
        case done
    }

    let directory: SafeDirectory
    let source: String
    /// The most bytes of tar stream (headers and contents, after any decompression) accepted.
    let maxBytes: Int
    /// Bytes of tar stream consumed so far.
    public private(set) var streamBytes = 0
    var buffer: [UInt8] = []
    var state: State = .header
    var longName: String?
    var longLink: String?
    var paxOverrides: [String: String] = [:]
    public private(set) var summary = Summary()

    /// Extracts into `destination` (created if missing); `source` (the URL) names the archive
    /// in errors. More than `maxBytes` of tar stream stops the extraction.
    public init(destination: String, source: String, maxBytes: Int = .max) throws {
        directory = try SafeDirectory(path: destination)
        self.source = source
        self.maxBytes = maxBytes
    }

    deinit {
        if case .data(_, _, .file(let fd, _)) = state { close(fd) }
    }

    /// Processes the next bytes of the archive.
    ///
    /// - Throws: `.unsafeArchiveEntry` naming a refused entry, `.malformed`, `.io`, `.tooLarge`
    ///   past `maxBytes` (nothing of these bytes is written).
    public func consume(_ bytes: some Collection<UInt8>) throws {
        guard bytes.count <= maxBytes - streamBytes else {
            throw IconError(
                .tooLarge,
                "\(source) unpacks to more than --max-bytes \(maxBytes) bytes (tar headers and contents after "
                    + "decompression); stopped, and what was unpacked before stays")
        }
        streamBytes += bytes.count
        buffer.append(contentsOf: bytes)
        var position = 0
        defer { buffer.removeFirst(position) }
        loop: while true {
            switch state {
            case .done:
                position = buffer.count  // trailing blocks after the end marker
                break loop
            case .header:
                guard buffer.count - position >= TarHeader.blockSize else { break loop }
                let block = buffer[position..<(position + TarHeader.blockSize)]
                position += TarHeader.blockSize
                if TarHeader.isZero(block) {
                    state = .done
                    continue
                }
                try begin(TarHeader(block: block, source: source))
            case .data(let remaining, let padding, let sink):
                if remaining == 0 {
                    guard buffer.count - position >= padding else { break loop }
                    position += padding
                    try end(sink)
                    continue
                }
                let count = min(remaining, buffer.count - position)
                guard count > 0 else { break loop }
                var sink = sink
                try write(buffer[position..<(position + count)], to: &sink)
                position += count
                state = .data(remaining: remaining - count, padding: padding, sink: sink)
            }
        }
    }

    /// Checks the archive ended cleanly (not in the middle of an entry).
    ///
    /// - Throws: `.malformed` when the archive is truncated.
    public func finish() throws -> Summary {
        switch state {
        case .done: return summary
        case .header where buffer.isEmpty: return summary
        default: throw IconError(.malformed, "\(source) is truncated (the tar archive ends inside an entry)")
        }
    }

    func begin(_ raw: TarHeader) throws {
        var header = raw
        // GNU long names and pax records apply to the next real entry only.
        if header.kind != .paxLocal, header.kind != .paxGlobal, header.kind != .gnuLongName, header.kind != .gnuLongLink {
            if let name = paxOverrides["path"] ?? longName { header.name = name }
            if let link = paxOverrides["linkpath"] ?? longLink { header.linkName = link }
            if let size = paxOverrides["size"].flatMap({ Int($0) }), header.kind == .file { header.size = size }
            paxOverrides = [:]
            longName = nil
            longLink = nil
        }
        let padding = (TarHeader.blockSize - header.size % TarHeader.blockSize) % TarHeader.blockSize
        let entry = header.name
        switch header.kind {
        case .paxLocal, .paxGlobal, .gnuLongName, .gnuLongLink:
            guard header.size <= 1 << 20 else { throw IconError(.malformed, "\(source): extended header of \(header.size) bytes is too large") }
            state = .data(remaining: header.size, padding: padding, sink: .collect(header.kind, []))
        case .refused(let what):
            throw IconError(.unsafeArchiveEntry, "archive entry \(entry) is a \(what); refused")
        case .directory:
            let components = try Self.components(entry)
            if !components.isEmpty {
                try directory.makeDirectory(components, mode: header.mode, entry: entry)
                summary.directories += 1
            }
            state = .data(remaining: 0, padding: 0, sink: .collect(.directory, []))
        case .symlink:
            let components = try Self.nonEmptyComponents(entry)
            try Self.checkSymlink(target: header.linkName, at: components, entry: entry)
            try directory.makeSymlink(components, target: header.linkName, entry: entry)
            summary.symlinks += 1
            state = .data(remaining: 0, padding: 0, sink: .collect(.symlink, []))
        case .hardlink:
            let components = try Self.nonEmptyComponents(entry)
            let target: [String]
            do {
                target = try Self.nonEmptyComponents(header.linkName)
            } catch {
                throw IconError(.unsafeArchiveEntry, "hard link \(entry) points to \(header.linkName), outside the destination; refused")
            }
            try directory.makeHardlink(components, to: target, entry: entry)
            summary.hardlinks += 1
            state = .data(remaining: 0, padding: 0, sink: .collect(.hardlink, []))
        case .file:
            let components = try Self.nonEmptyComponents(entry)
            let fd = try directory.createFile(components, mode: header.mode, entry: entry)
            summary.files += 1
            state = .data(remaining: header.size, padding: padding, sink: .file(fd, entry: entry))
        }
    }

    func write(_ bytes: ArraySlice<UInt8>, to sink: inout Sink) throws {
        switch sink {
        case .file(let fd, let entry):
            var offset = bytes.startIndex
            while offset < bytes.endIndex {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw IconError(.io, "cannot write \(entry) in \(directory.path): \(errnoText())")
                }
                offset += n
            }
            summary.bytes += bytes.count
        case .collect(let kind, var collected):
            collected.append(contentsOf: bytes)
            sink = .collect(kind, collected)
        }
    }

    func end(_ sink: Sink) throws {
        state = .header
        switch sink {
        case .file(let fd, _):
            close(fd)
        case .collect(.gnuLongName, let data):
            longName = TarHeader.string(data[...])
        case .collect(.gnuLongLink, let data):
            longLink = TarHeader.string(data[...])
        case .collect(.paxLocal, let data):
            paxOverrides = try TarHeader.paxRecords(data, source: source)
        case .collect:
            break  // global pax headers and entries without data
        }
    }

    /// The path's components inside the destination; empty for the destination itself.
    ///
    /// - Throws: `.unsafeArchiveEntry` for an absolute path or one with `..`.
    static func components(_ path: String) throws -> [String] {
        if path.hasPrefix("/") {
            throw IconError(.unsafeArchiveEntry, "archive entry \(path) has an absolute path; refused")
        }
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if parts.contains("..") {
            throw IconError(.unsafeArchiveEntry, "archive entry \(path) contains '..'; refused")
        }
        return parts
    }

    static func nonEmptyComponents(_ path: String) throws -> [String] {
        let parts = try components(path)
        guard !parts.isEmpty else { throw IconError(.unsafeArchiveEntry, "archive entry '\(path)' names the destination itself; refused") }
        return parts
    }

    /// Refuses a symlink whose target could leave the destination: absolute targets, and
    /// targets whose `..` components climb above it. `..` is allowed only at the start of the
    /// target, where it climbs real directories (extraction never creates a path through a
    /// symlink); after a name it could climb out of a symlinked directory, so it is refused.
    static func checkSymlink(target: String, at components: [String], entry: String) throws {
        let refuse = IconError(.unsafeArchiveEntry, "symlink \(entry) points to '\(target)', outside the destination; refused")
        guard !target.isEmpty, !target.hasPrefix("/") else { throw refuse }
        var depth = components.count - 1
        var leading = true
        for part in target.split(separator: "/") where part != "." {
            if part == ".." {
                guard leading, depth > 0 else { throw refuse }
                depth -= 1
            } else {
                leading = false
            }
        }
    }
}
