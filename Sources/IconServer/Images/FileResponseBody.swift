import Foundation
import Hummingbird
import IconCore
import NIOCore
import NIOPosix

/// The body of a file response, read one chunk at a time as the connection takes it.
///
/// Hummingbird's `FileIO` reads up to eight chunks ahead, and a body write returns as soon as
/// it is queued for the event loop, before the connection's writability reflects it: with many
/// clients and a file in the page cache, chunks piled up in those queues (gigabytes for twenty
/// downloads of one image). Here the next chunk is read only after the event loop has handed
/// the previous one to the connection, and a write waits while the connection is not writable,
/// so a client that reads slowly, or not at all, holds about two chunks and the socket buffers.
struct FileResponseBody {
    /// A body with the bytes of `range` of `file`.
    ///
    /// Reading fails with `IconError(.io)` when the file became shorter; the connection is then
    /// closed, as its `Content-Length` cannot be met.
    static func make(
        file: ReadOnlyFile, range: ClosedRange<Int>, chunkSize: Int, channel: any Channel,
        threadPool: NIOThreadPool = .singleton
    ) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let length = min(chunkSize, range.upperBound - offset + 1)
                let start = offset
                let chunk = try await threadPool.runIfActive {
                    try file.read(at: start, count: length, allocator: channel.allocator)
                }
                try await writer.write(chunk)
                // The write was only queued for the event loop; once the loop has run it, the
                // channel's writability is current and the next write waits while the client lags.
                try await channel.eventLoop.submit {}.get()
                offset += length
            }
            try await writer.finish(nil)
        }
    }
}

/// A file descriptor opened for reading, read with `pread` (on a thread pool thread) and
/// closed when the last reference goes.
final class ReadOnlyFile: Sendable {
    let path: String
    let descriptor: CInt

    /// Opens `path` (call it on a thread pool: `open` may block on a slow disk).
    ///
    /// - Throws: `IconError(.notFound)` when the file cannot be opened.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IconError(.notFound, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads exactly `count` bytes at `offset`.
    ///
    /// - Throws: `IconError(.io)` for a read error or a file shorter than `offset + count`.
    func read(at offset: Int, count: Int, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: count)
        while buffer.readableBytes < count {
            let wanted = count - buffer.readableBytes
            let position = off_t(offset + buffer.readableBytes)
            var failure: CInt = 0
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { bytes in
                let result = pread(descriptor, bytes.baseAddress, wanted, position)
                if result < 0 { failure = errno }
                return max(result, 0)
            }
            if failure == EINTR { continue }
            if failure != 0 {
                throw IconError(.io, "cannot read \(path) at offset \(position): \(String(cString: strerror(failure)))")
            }
            if got == 0 {
                throw IconError(.io, "\(path) ended at offset \(position), before the \(count) bytes being sent")
            }
        }
        return buffer
    }

    deinit {
        closeDescriptor(descriptor)
    }
}

private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
