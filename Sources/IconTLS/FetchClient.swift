public import AsyncHTTPClient
import Foundation
public import IconCore
import IconProtocol
import NIOCore
import NIOHTTP1
import NIOSSL

/// The fetcher's HTTP(S) client: one `HTTPClient` configured for the image server's TLS
/// (trust roots, client certificate), with errors turned into ``IconError``s naming the URL.
///
/// Owned by one fetch; call ``shutdown()`` when done.
public struct FetchClient: Sendable {
    let http: HTTPClient
    /// The TLS files, for the hints in errors.
    let files: ClientTLSFiles

    /// Builds the client, loading the TLS files first so a bad file is reported by name.
    ///
    /// - Throws: `.invalidArgument` for a certificate without a key (or the reverse),
    ///   `.notFound`/`.io` for a missing or unreadable file, `.badKey` for one that does not
    ///   parse or a key that does not match the certificate.
    public init(files: ClientTLSFiles, connectTimeout: Duration) throws {
        self.files = files
        http = try files.makeHTTPClient(connectTimeout: connectTimeout)
    }

    /// Shuts the client down; errors on shutdown are not interesting to the caller.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// GETs `url`, checking the status is 200.
    ///
    /// - Throws: `.network`, `.tls` or `.notFound` naming the URL.
    public func get(_ url: String) async throws -> HTTPClientResponse {
        let request = HTTPClientRequest(url: url)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            throw translate(error, url: url)
        }
        switch response.status.code {
        case 200:
            return response
        case 404:
            throw IconError(.notFound, "\(url) does not exist on the server (HTTP 404)\(Self.baseURLHint(url))")
        default:
            throw IconError(.network, "\(url) answered HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
    }

    /// For a `manifest.json` missing at a base URL whose path does not start with `/image/`:
    /// the usual mistake of giving the server's URL as `--base-url`.
    static func baseURLHint(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.path.hasSuffix("/manifest.json") else { return "" }
        let directory = String(components.path.dropLast("/manifest.json".count))
        guard !directory.hasPrefix(FleetPaths.imagePrefix) else { return "" }
        components.path = FleetPaths.imageBase("<type>")
        components.query = nil
        let example = components.string?.replacingOccurrences(of: "%3C", with: "<").replacingOccurrences(of: "%3E", with: ">")
        return "; --base-url must name the image type, e.g. \(example ?? "https://host:8443/image/<type>")"
    }

    /// GETs a small file whole, refusing one longer than `limit` bytes, cut by `stall` when
    /// too little arrives.
    ///
    /// - Throws: as ``get(_:)``, `.tooLarge` when the body exceeds `limit`, `.timeout`.
    public func getSmall(_ url: String, limit: Int, stall: StallGuard) async throws -> [UInt8] {
        try await stall.run(url: url, flag: "--stall-timeout") { meter in
            let response = try await get(url)
            let length = response.headers.first(name: "content-length").flatMap(Int.init)
            if let length, length > limit {
                throw IconError(.tooLarge, "\(url) is \(length) bytes, more than the \(limit) allowed")
            }
            if let length { meter.expect(total: length) }
            var bytes: [UInt8] = []
            do {
                for try await buffer in response.body {
                    guard bytes.count + buffer.readableBytes <= limit else {
                        throw IconError(.tooLarge, "\(url) is more than the \(limit) bytes allowed")
                    }
                    bytes += buffer.readableBytesView
                    meter.add(buffer.readableBytes)
                }
            } catch let error as IconError {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw translate(error, url: url)
            }
            try Task.checkCancellation()
            meter.finish()
            return bytes
        }
    }

    /// POSTs `body` and returns the answer's status code and body (at most `limit` bytes),
    /// whatever the status: the caller says what a refusal means.
    ///
    /// - Throws: `.network` or `.tls` naming the URL; `.malformed` for an answer over `limit`.
    public func post(
        _ url: String, contentType: String, body: [UInt8], limit: Int, timeout: Duration
    ) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: TimeAmount(timeout))
            let answer = try await response.body.collect(upTo: limit)
            return (Int(response.status.code), Array(answer.readableBytesView))
        } catch let error as NIOTooManyBytesError {
            throw IconError(.malformed, "\(url) answered more than the \(limit) bytes allowed", cause: error)
        } catch {
            throw translate(error, url: url)
        }
    }

    /// A transport error as one sentence naming the URL, from ``NetworkFailure``.
    public func translate(_ error: any Error, url: String) -> IconError {
        NetworkFailure(url: url, tls: files).iconError(error)
    }
}
