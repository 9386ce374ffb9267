import AsyncHTTPClient
import Foundation
import IconCore
import NIOCore
import NIOSSL

/// The fetcher's HTTP(S) client: one `HTTPClient` configured for the image server's TLS
/// (trust roots, client certificate), with errors turned into ``IconError``s naming the URL.
///
/// Owned by one fetch; call ``shutdown()`` when done.
struct FetchClient: Sendable {
    let http: HTTPClient

    /// Builds the client, loading the TLS files first so a bad file is reported by name.
    ///
    /// - Throws: `.invalidArgument` for a certificate without a key (or the reverse),
    ///   `.notFound`/`.io` for a missing or unreadable file, `.badKey` for one that does not parse.
    init(configuration: FetcherConfiguration) throws {
        let files = ClientTLSFiles(
            caCertPath: configuration.httpsCACert, clientCertPath: configuration.httpsClientCert,
            clientKeyPath: configuration.httpsClientKey)
        http = try files.makeHTTPClient(connectTimeout: configuration.connectTimeout)
    }

    /// Shuts the client down; errors on shutdown are not interesting to the caller.
    func shutdown() async {
        try? await http.shutdown()
    }

    /// GETs `url`, checking the status is 200.
    ///
    /// - Throws: `.network`, `.tls` or `.notFound` naming the URL.
    func get(_ url: String) async throws -> HTTPClientResponse {
        let request = HTTPClientRequest(url: url)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            throw Self.translate(error, url: url)
        }
        switch response.status.code {
        case 200:
            return response
        case 404:
            throw IconError(.notFound, "\(url) does not exist on the server (HTTP 404)")
        default:
            throw IconError(.network, "\(url) answered HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
    }

    /// GETs a small file whole, refusing one longer than `limit` bytes.
    ///
    /// - Throws: as ``get(_:)``, and `.malformed` when the body exceeds `limit`.
    func getSmall(_ url: String, limit: Int) async throws -> [UInt8] {
        let response = try await get(url)
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > limit {
            throw IconError(.malformed, "\(url) is \(length) bytes, more than the \(limit) allowed")
        }
        do {
            var buffer = try await response.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as NIOTooManyBytesError {
            throw IconError(.malformed, "\(url) is more than the \(limit) bytes allowed", cause: error)
        } catch {
            throw Self.translate(error, url: url)
        }
    }

    /// Maps a transport error to `.tls` or `.network`, naming the URL, with the reason in
    /// words a user can act on; the raw error stays as the cause.
    static func translate(_ error: any Error, url: String) -> IconError {
        if let error = error as? IconError { return error }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return IconError(.tls, "TLS handshake with \(url) failed: \(tlsReason(describe(error)))", cause: error)
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout:
                return IconError(.network, "cannot connect to \(url): connection timed out", cause: error)
            case .readTimeout:
                return IconError(.network, "\(url) stopped sending data (read timeout)", cause: error)
            case .remoteConnectionClosed:
                return IconError(.network, "\(url): the server closed the connection early", cause: error)
            default:
                return IconError(.network, "request to \(url) failed: \(error.shortDescription)", cause: error)
            }
        }
        if let error = error as? IOError {
            return IconError(.network, "cannot reach \(url): \(String(cString: strerror(error.errnoCode)))", cause: error)
        }
        return IconError(.network, "cannot reach \(url): \(describe(error))", cause: error)
    }

    /// The BoringSSL reason (e.g. `CERTIFICATE_VERIFY_FAILED`) in a TLS error's text, explained.
    static func tlsReason(_ text: String) -> String {
        let known: [(String, String)] = [
            ("CERTIFICATE_VERIFY_FAILED", "the server's certificate is not trusted (check --https-ca-cert)"),
            ("CERTIFICATE_REQUIRED", "the server requires a client certificate (--https-client-cert and --https-client-key)"),
            ("UNKNOWN_CA", "the server does not trust our client certificate's CA"),
            ("BAD_CERTIFICATE", "the server rejected our client certificate"),
            ("CERTIFICATE_EXPIRED", "a certificate has expired"),
            ("WRONG_VERSION_NUMBER", "the server does not speak TLS here (try http://?)"),
        ]
        for (token, explanation) in known where text.contains(token) {
            return "\(explanation) [\(token)]"
        }
        // Keep only the reason code BoringSSL puts after "OPENSSL_internal:".
        if let range = text.range(of: "OPENSSL_internal:") {
            return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        return text
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}
