import Foundation
import IconCore

/// Streams one ISO from the server into the image directory: received buffers go straight
/// into the SHA-256 hasher and `write(2)`, with the HTTP client's back-pressure keeping
/// memory flat whatever the image size.
struct ImageDownload: Sendable {
    let url: String
    let finalPath: String
    let expectedSHA256: String
    let progress: (@Sendable (FetchProgress) -> Void)?

    /// Downloads, checks length and hash, and renames into `finalPath`.
    ///
    /// - Returns: the number of bytes received.
    /// - Throws: `.network`/`.tls` naming the URL, `.truncated` when fewer bytes than
    ///   Content-Length arrive, `.hashMismatch`, `.io`. The temp file is gone after a throw.
    func run(client: FetchClient) async throws -> Int {
        let response = try await client.get(url)
        let expectedLength = response.headers.first(name: "content-length").flatMap(Int.init)
        var writer = try ImageFileWriter(finalPath: finalPath)
        let start = ContinuousClock.now
        var lastReport = start
        do {
            for try await buffer in response.body {
                try writer.append(buffer)
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
            if let expectedLength, writer.bytesWritten < expectedLength {
                throw IconError(
                    .truncated,
                    "\(url) ended after \(writer.bytesWritten) of \(expectedLength) bytes; not installed",
                    cause: error)
            }
            throw client.translate(error, url: url)
        }
        let received = writer.bytesWritten
        if let expectedLength, received != expectedLength {
            throw IconError(
                .truncated, "\(url) sent \(received) bytes but announced \(expectedLength); not installed")
        }
        try writer.commit(expectedSHA256: expectedSHA256, url: url)
        return received
    }
}
