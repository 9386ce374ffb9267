public import Foundation
import IconCore

#if canImport(Glibc)
import Glibc
#endif

/// One certificate the certificate server issued: who asked, for which subject, which serial.
public struct IssuanceRecord: Codable, Sendable, Equatable {
    /// When it was issued, as ISO 8601.
    public var time: String
    /// The subject of the client certificate that asked.
    public var requester: String
    /// The machine id from the request.
    public var systemID: String
    /// The subject of the issued certificate.
    public var subject: String
    /// The serial number in lowercase hex.
    public var serial: String
    /// The end of validity, as ISO 8601.
    public var notValidAfter: String

    public init(time: Date, requester: String, systemID: String, subject: String, serial: String, notValidAfter: Date) {
        let format = ISO8601DateFormatter()
        self.time = format.string(from: time)
        self.requester = requester
        self.systemID = systemID
        self.subject = subject
        self.serial = serial
        self.notValidAfter = format.string(from: notValidAfter)
    }
}

/// An append-only JSON-lines file of ``IssuanceRecord``s (`--log-file`).
///
/// Appended, not replaced through `AtomicFile`: the log only grows, each record is a single
/// `write(2)` on an `O_APPEND` descriptor (so concurrent requests never interleave), and it is
/// fsynced before the certificate is returned, so an issued certificate is always on record.
public struct IssuanceLog: Sendable {
    public let path: String

    /// A log at `path`; the file is created on the first record.
    public init(path: String) {
        self.path = path
    }

    /// Appends `record` as one line.
    ///
    /// - Throws: `.io` naming the file.
    public func append(_ record: IssuanceRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(record))
        } catch {
            throw IconError(.internal, "cannot encode an issuance record", cause: error)
        }
        bytes.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw IconError(.io, "cannot open issuance log \(path): \(errnoText())")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        guard written == bytes.count else {
            throw IconError(.io, "cannot append to issuance log \(path): \(errnoText())")
        }
        guard fsync(fd) == 0 else {
            throw IconError(.io, "cannot fsync issuance log \(path): \(errnoText())")
        }
    }

    /// Every record in the file, oldest first (for tests and audits).
    ///
    /// - Throws: `.io` or `.malformed` naming the file.
    public func records() throws -> [IssuanceRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw IconError(.io, "cannot read issuance log \(path)", cause: error)
        }
        return try text.split(separator: "\n").map { line in
            do {
                return try JSONDecoder().decode(IssuanceRecord.self, from: Data(line.utf8))
            } catch {
                throw IconError(.malformed, "issuance log \(path) has a bad line: \(line)", cause: error)
            }
        }
    }
}
