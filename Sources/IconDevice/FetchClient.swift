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
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // After an aborted transfer the server may never answer our close_notify; do not
        // hold the command for NIOSSL's default 5 s waiting for it.
        tls.shutdownTimeout = .milliseconds(250)
        if let caFile = configuration.httpsCACert {
            let certificates = try Self.loadCertificates(caFile, flag: "--https-ca-cert")
            tls.trustRoots = .certificates(certificates)
        }
        switch (configuration.httpsClientCert, configuration.httpsClientKey) {
        case (nil, nil):
            break
        case (let certFile?, let keyFile?):
            let chain = try Self.loadCertificates(certFile, flag: "--https-client-cert")
            tls.certificateChain = chain.map { .certificate($0) }
            let keyBytes = try Self.readFile(keyFile, flag: "--https-client-key")
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyBytes, format: .pem))
            } catch {
                throw IconError(.badKey, "--https-client-key \(keyFile) holds no readable PEM private key", cause: error)
            }
        case (_?, nil):
            throw IconError(.invalidArgument, "--https-client-cert needs --https-client-key")
        case (nil, _?):
            throw IconError(.invalidArgument, "--https-client-key needs --https-client-cert")
        }
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(configuration.connectTimeout / .milliseconds(1))),
                read: .seconds(60)),
            decompression: .disabled)
        // A refused handshake is not worth retrying until the connect timeout: fail at once
        // with the real reason (bad CA, no client certificate).
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
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

    static func readFile(_ path: String, flag: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IconError(.notFound, "\(flag) \(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IconError(.io, "\(flag) \(path) cannot be read (permission denied?)")
        }
        return [UInt8](data)
    }

    static func loadCertificates(_ path: String, flag: String) throws -> [NIOSSLCertificate] {
        let bytes = try readFile(path, flag: flag)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw IconError(.badKey, "\(flag) \(path) holds no readable PEM certificate", cause: error)
        }
        guard !certificates.isEmpty else {
            throw IconError(.badKey, "\(flag) \(path) holds no PEM certificate")
        }
        return certificates
    }
}
