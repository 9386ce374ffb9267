import AsyncHTTPClient
import Foundation
import IconCore
public import IconTLS
public import IconUpdate
import Logging
import NIOCore
import NIOHTTP1

/// Streams a tar archive over HTTP(S) into a directory (`icon fetch-archive`).
///
/// Plain and gzip-compressed archives are both accepted, told apart by the gzip magic bytes
/// (`1f 8b`), not by the URL or a header. Gzip is decoded by `/bin/gzip -dc` reading the
/// download on stdin: it is given no path and no name from the archive, so nothing untrusted
/// reaches a command line. The tar itself is read in Swift by ``TarExtractor``, which refuses
/// entries that would escape the directory.
///
/// Bounded in size and time: the unpacked tar stream may hold at most `maxBytes`, and the
/// download is cut by `stall` when too little of it arrives.
public struct ArchiveFetcher: Sendable {
    public var url: String
    public var destination: String
    public var tls: ClientTLSFiles
    /// The gzip decoder; only `-dc` is ever passed to it.
    public var gzipPath: String
    /// The most bytes the archive may unpack to: its tar stream after decompression, headers
    /// included (`--max-bytes`).
    public var maxBytes: Int
    /// Cuts a download that makes too little progress (`--stall-timeout`).
    public var stall: StallGuard
    /// How long to wait for the TCP connection and TLS handshake.
    public var connectTimeout: Duration

    /// `--max-bytes` by default: 4 GiB.
    public static let defaultMaxBytes = 4 << 30

    public init(
        url: String, destination: String, tls: ClientTLSFiles, gzipPath: String = "/bin/gzip",
        maxBytes: Int = ArchiveFetcher.defaultMaxBytes,
        stall: StallGuard = StallGuard(window: FetcherConfiguration.defaultStallTimeout),
        connectTimeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.destination = destination
        self.tls = tls
        self.gzipPath = gzipPath
        self.maxBytes = maxBytes
        self.stall = stall
        self.connectTimeout = connectTimeout
    }

    /// Downloads and extracts.
    ///
    /// - Throws: `.network`/`.tls`/`.notFound` naming the URL, `.unsafeArchiveEntry` naming a
    ///   refused entry, `.malformed` for a corrupt archive, `.toolFailed` when gzip fails,
    ///   `.tooLarge` past `maxBytes`, `.timeout`.
    public func run() async throws -> TarExtractor.Summary {
        let extractor = try TarExtractor(destination: destination, source: url, maxBytes: maxBytes)
        let client = try tls.makeHTTPClient(connectTimeout: connectTimeout)
        do {
            let summary = try await stall.run(url: url, flag: "--stall-timeout") { meter in
                try await fetch(client: client, into: extractor, meter: meter)
            }
            try? await client.shutdown()
            return summary
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func fetch(client: HTTPClient, into extractor: TarExtractor, meter: TransferMeter) async throws -> TarExtractor.Summary {
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
        if let length = response.headers.first(name: "content-length").flatMap(Int.init) { meter.expect(total: length) }
        var chunks = response.body.makeAsyncIterator()
        // Read until the first two bytes are known, to tell gzip from plain tar.
        var head: [UInt8] = []
        while head.count < 2, let chunk = try await next(&chunks, meter: meter) {
            head.append(contentsOf: chunk.readableBytesView)
        }
        if head.starts(with: [0x1f, 0x8b]) {
            return try await gunzip(head: head, rest: &chunks, into: extractor, meter: meter)
        }
        try extractor.consume(head)
        while let chunk = try await next(&chunks, meter: meter) {
            try extractor.consume(chunk.readableBytesView)
        }
        let summary = try extractor.finish()
        meter.finish()
        return summary
    }

    /// The next chunk of the download, counted on `meter`; nil at its end.
    func next(_ chunks: inout HTTPClientResponse.Body.AsyncIterator, meter: TransferMeter) async throws -> ByteBuffer? {
        do {
            let chunk = try await chunks.next()
            // A cancelled body may end instead of throwing: that is not the archive's end.
            try Task.checkCancellation()
            if let chunk { meter.add(chunk.readableBytes) }
            return chunk
        } catch let error as IconError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            var failure = NetworkFailure(url: url, tls: tls).iconError(error)
            failure.message = "the download broke off: \(failure.message)"
            throw failure
        }
    }

    /// Pipes the download through `gzip -dc` while a child task feeds gzip's output to the extractor.
    func gunzip(
        head: [UInt8], rest chunks: inout HTTPClientResponse.Body.AsyncIterator, into extractor: TarExtractor,
        meter: TransferMeter
    ) async throws -> TarExtractor.Summary {
        let url = self.url
        let outcome: RunOutcome<Gunzipped>
        do {
            outcome = try await SubprocessToolRunner().withRunning(
                ToolInvocation(gzipPath, ["-dc"]), logger: Logger(label: "icon.fetch-archive")
            ) { gzip in
                async let extracted = Self.extract(gzip, into: extractor, source: url)
                var writeFailed = false
                var downloadError: (any Error)?
                do {
                    if !(await gzip.write(head)) { writeFailed = true }
                    while !writeFailed, let chunk = try await next(&chunks, meter: meter) {
                        if !(await gzip.write(Array(chunk.readableBytesView))) { writeFailed = true }
                    }
                } catch {
                    downloadError = error
                }
                await gzip.finishInput()
                return Gunzipped(extracted: await extracted, writeFailed: writeFailed, downloadError: downloadError)
            }
        } catch let error as IconError where error.code == .toolFailed {
            throw IconError(.toolFailed, "cannot run \(gzipPath) to decompress \(url)", cause: error)
        }
        let run = outcome.value
        // An extraction error (a refused entry, --max-bytes) is the cause of a failed write.
        if case .failure(let error) = run.extracted, run.writeFailed { throw error }
        if let error = run.downloadError { throw error }
        let summary = try run.extracted.get()
        meter.finish()
        guard outcome.exitCode == 0 else {
            let text = outcome.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw IconError(.malformed, "\(url) is not valid gzip: \(text)")
        }
        return summary
    }

    /// What one gzip run left: the extraction's result, and how feeding gzip ended.
    struct Gunzipped: Sendable {
        var extracted: Result<TarExtractor.Summary, any Error>
        var writeFailed: Bool
        var downloadError: (any Error)?
    }

    /// Reads gzip's output to the end into the extractor. On an extraction error it stops gzip,
    /// so the download stops at its next write, even when the server would send for ever.
    static func extract(_ gzip: RunningTool, into extractor: TarExtractor, source: String) async -> Result<TarExtractor.Summary, any Error> {
        do {
            for try await chunk in gzip.output {
                try extractor.consume(chunk[...])
            }
            return .success(try extractor.finish())
        } catch let error as IconError {
            await gzip.terminate(grace: .seconds(2))
            return .failure(error)
        } catch {
            await gzip.terminate(grace: .seconds(2))
            return .failure(IconError(.io, "cannot read the output of gzip for \(source)", cause: error))
        }
    }
}
