import AsyncHTTPClient
import Foundation
import IconCore
import IconTLS
import NIOCore
import NIOHTTP1

/// Streams one ISO from the server into the image directory: received buffers go straight
/// into the SHA-256 hasher and `write(2)`, with the HTTP client's back-pressure keeping
/// memory flat whatever the image size.
///
/// Bounded in size and time: never more bytes than the manifest gives for the image (or, for
/// a manifest without sizes, than `maxBytes`), and cut by `stall` when too little arrives.
/// Partial downloads are never resumed, so whatever stops a download (a refusal, an error, a
/// cancellation by SIGINT or SIGTERM) removes its temp file.
struct ImageDownload: Sendable {
    let url: String
    let finalPath: String
    let expectedSHA256: String
    /// The image's length from the manifest; nil for manifests without sizes.
    let expectedSize: Int?
    /// The most bytes accepted when `expectedSize` is nil (`--max-image-bytes`).
    let maxBytes: Int
    let stall: StallGuard
    let progress: (@Sendable (FetchProgress) -> Void)?

    /// Downloads, checks length and hash, and renames into `finalPath`.
    ///
    /// - Returns: the number of bytes received.
    /// - Throws: `.network`/`.tls` naming the URL, `.truncated` when fewer bytes than
    ///   announced arrive, `.tooLarge` when more would, `.timeout`, `.hashMismatch`, `.io`.
    ///   The temp file is gone after a throw.
    func run(client: FetchClient) async throws -> Int {
        try await stall.run(url: url, flag: "--stall-timeout") { meter in
            try await transfer(client: client, meter: meter)
        }
    }

    private func transfer(client: FetchClient, meter: TransferMeter) async throws -> Int {
        let response = try await client.get(url)
        let announced = response.headers.first(name: "content-length").flatMap(Int.init)
        try check(announced: announced)
        let limit = expectedSize ?? maxBytes
        let expectedLength = expectedSize ?? announced
        if let expectedLength { meter.expect(total: expectedLength) }
        var writer = try ImageFileWriter(finalPath: finalPath)
        let start = ContinuousClock.now
        var lastReport = start
        do {
            for try await buffer in response.body {
                guard writer.bytesWritten + buffer.readableBytes <= limit else {
                    throw tooLong(received: writer.bytesWritten + buffer.readableBytes)
                }
                try writer.append(buffer)
                meter.add(buffer.readableBytes)
                if let progress {
                    let now = ContinuousClock.now
                    if now - lastReport >= .seconds(1) {
                        lastReport = now
                        progress(FetchProgress(
                            url: url, received: writer.bytesWritten, total: expectedLength,
                            elapsed: (now - start) / .seconds(1)))
                    }
                }
            }
        } catch let error as IconError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            if let expectedLength, writer.bytesWritten < expectedLength {
                throw IconError(
                    .truncated,
                    "\(url) ended after \(writer.bytesWritten) of \(expectedLength) bytes; not installed",
                    cause: error)
            }
            throw client.translate(error, url: url)
        }
        // A cancelled body may end early instead of throwing: never install what it left.
        try Task.checkCancellation()
        meter.finish()
        let received = writer.bytesWritten
        if let expectedLength, received != expectedLength {
            let source = expectedSize == nil ? "announced" : "the manifest gives"
            throw IconError(.truncated, "\(url) sent \(received) bytes but \(source) \(expectedLength); not installed")
        }
        try writer.commit(expectedSHA256: expectedSHA256, url: url)
        return received
    }

    /// Refuses a Content-Length that cannot be the image before anything is written.
    private func check(announced: Int?) throws {
        guard let announced else { return }
        if let expectedSize, announced != expectedSize {
            throw IconError(
                announced > expectedSize ? .tooLarge : .truncated,
                "\(url) announces \(announced) bytes (Content-Length), but the manifest gives \(expectedSize) "
                    + "for this image; not installed")
        }
        if expectedSize == nil, announced > maxBytes {
            throw IconError(
                .tooLarge,
                "\(url) announces \(announced) bytes (Content-Length), more than --max-image-bytes \(maxBytes), "
                    + "and the manifest gives no size; not installed (raise --max-image-bytes, or publish again: "
                    + "icon publish records sizes)")
        }
    }

    /// The refusal of a body longer than allowed; `received` is how many bytes it has at least.
    private func tooLong(received: Int) -> IconError {
        if let expectedSize {
            return IconError(
                .tooLarge,
                "\(url) sent more than the manifest gives for this image: at least \(received) bytes, "
                    + "the manifest says \(expectedSize); not installed")
        }
        return IconError(
            .tooLarge,
            "\(url) sent more than --max-image-bytes \(maxBytes): at least \(received) bytes, and the manifest "
                + "gives no size; not installed (raise --max-image-bytes, or publish again: icon publish records sizes)")
    }
}
