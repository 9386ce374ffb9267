public import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Streams a file through SHA-256 with a fixed-size buffer: memory use does not grow with
/// the file.
public enum FileHasher {
    static let bufferSize = 1 << 20

    /// The lowercase hex SHA-256 of the file at `path`.
    ///
    /// - Throws: `IconError.Code.io` naming the file, also when it is not a regular file.
    public static func sha256Hex(ofFileAt path: String) throws -> String {
        // Only a regular file: a FIFO would block the open, a device read forever.
        let fd = try RegularFile.openForReading(path)
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress!, bufferSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw IconError(.io, "cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finalize().hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Digest {
    /// Lowercase hexadecimal.
    public var hexString: String { Array(self.makeIterator()).hexString }
}

extension Array where Element == UInt8 {
    /// Parses lowercase or uppercase hexadecimal; nil on odd length or a non-hex digit.
    public init?(hexString: String) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]), let lo = value(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self = bytes
    }
}
