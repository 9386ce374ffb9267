import AsyncHTTPClient
import Foundation
import IconCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Streams a tar archive over HTTP(S) into a directory (`icon fetch-archive`).
///
/// Plain and gzip-compressed archives are both accepted, told apart by the gzip magic bytes
/// (`1f 8b`), not by the URL or a header. Gzip is decoded by `/bin/gzip -dc` reading the
/// download on stdin: it is given no path and no name from the archive, so nothing untrusted
/// reaches a command line. The tar itself is read in Swift by ``TarExtractor``, which refuses
/// entries that would escape the directory.
public struct ArchiveFetcher: Sendable {
    public var url: String
    public var destination: String
    public var tls: ClientTLSFiles
    /// The gzip decoder; only `-dc` is ever passed to it.
    public var gzipPath: String

    public init(url: String, destination: String, tls: ClientTLSFiles, gzipPath: String = "/bin/gzip") {
        self.url = url
        self.destination = destination
        self.tls = tls
        self.gzipPath = gzipPath
    }

    /// Downloads and extracts.
    ///
    /// - Throws: `.network`/`.tls`/`.notFound` naming the URL, `.unsafeArchiveEntry` naming a
    ///   refused entry, `.malformed` for a corrupt archive, `.toolFailed` when gzip fails.
    public func run() async throws -> TarExtractor.Summary {
        let extractor = try TarExtractor(destination: destination, source: url)
        let client = try tls.makeHTTPClient()
        do {
            let summary = try await fetch(client: client, into: extractor)
            try? await client.shutdown()
            return summary
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func fetch(client: HTTPClient, into extractor: TarExtractor) async throws -> TarExtractor.Summary {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
        } catch {
            throw NetworkFailure(url: url, tls: tls).iconError(error)
        }
        switch response.status.code {
        case 200: break
        case 404: throw IconError(.notFound, "\(url) does not exist on the server (HTTP 404)")
        default: throw IconError(.network, "\(url) answered HTTP \(response.status.code)")
        }
        var chunks = response.body.makeAsyncIterator()
        // Read until the first two bytes are known, to tell gzip from plain tar.
        var head: [UInt8] = []
        while head.count < 2, let chunk = try await next(&chunks) {
            head.append(contentsOf: chunk.readableBytesView)
        }
        if head.starts(with: [0x1f, 0x8b]) {
            return try await gunzip(head: head, rest: &chunks, into: extractor)
        }
        try extractor.consume(head)
        while let chunk = try await next(&chunks) {
            try extractor.consume(chunk.readableBytesView)
        }
        return try extractor.finish()
    }

    func next(_ chunks: inout HTTPClientResponse.Body.AsyncIterator) async throws -> ByteBuffer? {
        do {
            return try await chunks.next()
        } catch let error as IconError {
            throw error
        } catch {
            var failure = NetworkFailure(url: url, tls: tls).iconError(error)
            failure.message = "the download broke off: \(failure.message)"
            throw failure
        }
    }

    /// Pipes the download through `gzip -dc`; a reader thread feeds its output to the extractor.
    func gunzip(head: [UInt8], rest chunks: inout HTTPClientResponse.Body.AsyncIterator, into extractor: TarExtractor) async throws -> TarExtractor.Summary {
        // A write into a pipe whose reader died must be an EPIPE error, not a fatal signal.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzipPath)
        process.arguments = ["-dc"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw IconError(.toolFailed, "cannot run \(gzipPath) to decompress \(url)", cause: error)
        }
        let readFD = output.fileHandleForReading.fileDescriptor
        let url = self.url
        async let extracted: Result<TarExtractor.Summary, any Error> = withCheckedContinuation { continuation in
            // A thread of its own: the read blocks, and the cooperative pool is only two threads here.
            Thread.detachNewThread {
                continuation.resume(returning: Result { try Self.drain(readFD, into: extractor, source: url) })
            }
        }
        let writeFD = input.fileHandleForWriting.fileDescriptor
        var writeFailed = false
        var downloadError: (any Error)?
        do {
            if !Self.writeAll(head[...], to: writeFD) { writeFailed = true }
            while !writeFailed, let chunk = try await next(&chunks) {
                if !Self.writeAll(Array(chunk.readableBytesView)[...], to: writeFD) { writeFailed = true }
            }
        } catch {
            downloadError = error
        }
        try? input.fileHandleForWriting.close()
        let result = await extracted
        process.waitUntilExit()
        if let downloadError { throw downloadError }
        let summary = try result.get()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw IconError(.malformed, "\(url) is not valid gzip: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return summary
    }

    /// Reads gzip's output to the end into the extractor. On an extraction error it keeps
    /// draining (and discarding) so gzip can finish, then rethrows.
    static func drain(_ fd: Int32, into extractor: TarExtractor, source: String) throws -> TarExtractor.Summary {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var failure: (any Error)?
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw IconError(.io, "cannot read the output of gzip for \(source): \(errnoText())") }
            if n == 0 { break }
            if failure == nil {
                do { try extractor.consume(buffer[0..<n]) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return try extractor.finish()
    }

    /// Writes all of `bytes`; false when the pipe is closed.
    static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
