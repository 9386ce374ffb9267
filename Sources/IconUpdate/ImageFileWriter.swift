import Crypto
import Foundation
import IconCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes a downloading ISO into a hidden temp file in the image directory while hashing it,
/// and renames it into place only once the length and SHA-256 are right.
///
/// The temp name `.<timestamp>.iso.part-XXXXXX` never matches `*.iso`, so a crash mid-download
/// leaves nothing a boot menu would list; ``ImageDirectory`` removes such leftovers.
struct ImageFileWriter: ~Copyable {
    let finalPath: String
    let tempPath: String
    private let fd: Int32
    private var hasher = SHA256()
    private(set) var bytesWritten = 0
    private var finished = false

    /// Creates the temp file next to `finalPath`.
    ///
    /// - Throws: `.io` naming the directory.
    init(finalPath: String) throws {
        self.finalPath = finalPath
        let directory = (finalPath as NSString).deletingLastPathComponent
        let base = (finalPath as NSString).lastPathComponent
        var template = Array("\(directory)/.\(base).part-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw IconError(.io, "cannot create a temporary file in \(directory): \(errnoText())")
        }
        self.fd = fd
        tempPath = String(cString: template.map { UInt8(bitPattern: $0) } + [0])
    }

    deinit {
        if !finished {
            close(fd)
            unlink(tempPath)
        }
    }

    /// Hashes and writes one received buffer without copying it.
    ///
    /// - Throws: `.io` naming the final file (disk full, I/O error).
    mutating func append(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            hasher.update(bufferPointer: bytes)
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw IconError(.io, "cannot write \(tempPath) for \(finalPath): \(errnoText())")
                }
                offset += n
            }
        }
        bytesWritten += buffer.readableBytes
    }

    /// Checks the hash, fsyncs and renames the file to `finalPath`.
    ///
    /// Consumes the writer: on any error the temp file is deleted.
    /// - Throws: `.hashMismatch` naming `url` when the bytes are not the expected ones, `.io`.
    consuming func commit(expectedSHA256: String, url: String) throws {
        let digest = hasher.finalize().hexString
        guard digest == expectedSHA256.lowercased() else {
            throw IconError(
                .hashMismatch,
                "\(url) has SHA-256 \(digest), the manifest says \(expectedSHA256.lowercased()); not installed")
        }
        guard fchmod(fd, 0o644) == 0, fsync(fd) == 0 else {
            throw IconError(.io, "cannot fsync \(tempPath): \(errnoText())")
        }
        try AtomicFile.commit(tempPath: tempPath, to: finalPath)
        close(fd)
        finished = true
    }
}
