import AsyncHTTPClient
import Foundation
public import IconCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Turns what the HTTP and WebSocket clients throw into one ``IconError`` sentence that names
/// the URL and says what to do: the one place the fetcher, `fetch-archive`, the agent and the
/// operator session classify transport errors.
///
/// Classification is by error type and value (NIO's `IOError` errno, `NIOConnectionError`,
/// `HTTPClientError` cases, `NIOSSLError` cases and BoringSSL's packed error codes), never by
/// matching an error's text. The raw error stays as the cause, which users only see with
/// `ICON_LOG_LEVEL=debug`.
public struct NetworkFailure: Sendable {
    /// The URL the client was talking to, as the user gave it.
    public var url: String
    /// The TLS files and their flag names, for hints.
    public var tls: ClientTLSFiles
    /// The flag that sets the name checked in the server certificate (`--server-name` for the
    /// agent and operator); nil when the command has none.
    public var serverNameFlag: String?

    public init(url: String, tls: ClientTLSFiles, serverNameFlag: String? = nil) {
        self.url = url
        self.tls = tls
        self.serverNameFlag = serverNameFlag
    }

    /// The error for `error`: `.tls` for handshake failures, `.badKey` for local key material
    /// the TLS library cannot load, `.network` for the rest; an `IconError` passes unchanged.
    public func iconError(_ error: any Error) -> IconError {
        if let error = error as? IconError { return error }
        let (code, reason) = explain(error)
        return IconError(code, "\(url): \(reason)", cause: error)
    }

    /// The code and the reason (without the URL) for `error`.
    func explain(_ error: any Error) -> (IconError.Code, String) {
        if let error = error as? NIOConnectionError {
            // Happy eyeballs: the per-address failures say why; without any, the name did not resolve.
            if let first = error.connectionErrors.first { return explain(first.error) }
            return (.network, unknownHost)
        }
        if error is SocketAddressError { return (.network, unknownHost) }
        if let error = error as? IOError { return (.network, explain(errno: error.errnoCode)) }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return (.network, "connection timed out (is \(hostAndPort) reachable from here?)")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed: return (.network, resetReason)
            default: return (.network, "the connection failed")
            }
        }
        if let error = error as? NIOSSLExtraError { return explain(error) }
        if let error = error as? NIOSSLError { return explain(error) }
        if let error = error as? BoringSSLError { return explainTLS(error) }
        if let error = error as? HTTPClientError { return explain(error) }
        if error is HTTPParserError {
            return (.network, isPlainHTTP
                ? "the server did not answer in HTTP; if it speaks HTTPS, use https://"
                : "the server sent something that is not HTTP")
        }
        return (.network, "the request failed")
    }

    func explain(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused (is the server running and listening on \(hostAndPort)?)"
        case ECONNRESET: resetReason
        case ETIMEDOUT: "connection timed out (is \(hostAndPort) reachable from here?)"
        case EHOSTUNREACH, ENETUNREACH: "\(String(cString: strerror(code))) (check the network and \(hostAndPort))"
        default: String(cString: strerror(code))
        }
    }

    func explain(_ error: NIOSSLExtraError) -> (IconError.Code, String) {
        if error == .failedToValidateHostname || error == .serverHostnameImpossibleToMatch {
            var reason = "the server's certificate does not name \(host)"
            if let serverNameFlag {
                reason += "; connect by a name it carries, or give that name with \(serverNameFlag)"
            } else {
                reason += "; use a host name or IP address the certificate carries"
            }
            return (.tls, reason)
        }
        if error == .cannotUseIPAddressInSNI || error == .invalidSNIHostname {
            return (.invalidArgument, "\(host) cannot be sent as a TLS server name")
        }
        if error == .unknownPrivateKeyFileType {
            return (.badKey, "\(tls.flags.key) \(tls.clientKeyPath ?? "") is not a PEM private key")
        }
        return (.tls, "TLS failed")
    }

    func explain(_ error: NIOSSLError) -> (IconError.Code, String) {
        switch error {
        case .handshakeFailed(let inner), .shutdownFailed(let inner):
            return explainTLS(inner)
        case .failedToLoadPrivateKey:
            return (.badKey, "cannot load \(tls.flags.key) \(tls.clientKeyPath ?? "")")
        case .failedToLoadCertificate:
            return (.badKey, "cannot load the certificates of \(tls.flags.cert) or \(tls.flags.ca)")
        case .uncleanShutdown:
            return (.network, resetReason)
        case .noCertificateToValidate, .unableToValidateCertificate:
            return (.tls, notTrusted)
        default:
            return (.tls, "TLS failed")
        }
    }

    func explain(_ error: HTTPClientError) -> (IconError.Code, String) {
        switch error {
        case .connectTimeout, .tlsHandshakeTimeout:
            return (.network, "connection timed out (is \(hostAndPort) reachable from here?)")
        case .readTimeout:
            return (.network, "the server stopped sending data (read timeout)")
        case .remoteConnectionClosed, .uncleanShutdown:
            return (.network, resetReason)
        case .deadlineExceeded:
            return (.network, "the request took too long")
        case .invalidURL, .emptyHost, .emptyScheme:
            return (.invalidArgument, "not a valid http:// or https:// URL")
        case .cancelled:
            return (.network, "the request was cancelled")
        default:
            return (.network, "the request failed")
        }
    }

    /// A BoringSSL failure, by the packed reason codes in its error stack.
    func explainTLS(_ error: BoringSSLError) -> (IconError.Code, String) {
        let stack: [BoringSSLInternalError]
        switch error {
        case .sslError(let errors), .unknownError(let errors): stack = errors
        case .syscallError, .zeroReturn: return (.network, resetReason)
        default: return (.tls, "the TLS handshake failed")
        }
        if stack.contains(.eofDuringHandshake) { return (.network, resetReason) }
        for reason in stack.compactMap(Self.sslReason) {
            if let explained = explain(sslReason: reason) { return explained }
        }
        return (.tls, "the TLS handshake failed")
    }

    func explain(sslReason reason: Int) -> (IconError.Code, String)? {
        switch reason {
        case SSLReason.certificateVerifyFailed:
            return (.tls, notTrusted)
        case SSLReason.wrongVersionNumber, SSLReason.unsupportedProtocol:
            return (.tls, isTLS
                ? "the server does not speak TLS on \(hostAndPort); if it serves plain HTTP, use http://"
                : "TLS version mismatch")
        case SSLReason.httpRequest, SSLReason.httpsProxyRequest:
            return (.tls, "the server speaks plain HTTP, not HTTPS")
        case SSLReason.alertCertificateRequired:
            return (.tls, clientCertificateMissing)
        case SSLReason.alertUnknownCA:
            return (.tls, "the server refused our client certificate\(clientCertificateName): it does not trust the CA that issued it")
        case SSLReason.alertCertificateExpired:
            return (.tls, "the server refused our client certificate\(clientCertificateName): it has expired")
        case SSLReason.alertCertificateRevoked:
            return (.tls, "the server refused our client certificate\(clientCertificateName): it was revoked")
        case SSLReason.alertBadCertificate, SSLReason.alertUnsupportedCertificate, SSLReason.alertCertificateUnknown,
            SSLReason.alertAccessDenied, SSLReason.alertDecryptError:
            return (.tls, tls.clientCertPath == nil
                ? clientCertificateMissing
                : "the server refused our client certificate\(clientCertificateName)")
        case SSLReason.alertHandshakeFailure, SSLReason.noSharedCipher, SSLReason.alertProtocolVersion:
            return (.tls, "the server and this client share no TLS version or cipher")
        default:
            return nil
        }
    }

    /// BoringSSL's SSL library reason codes (`SSL_R_*` in `ssl.h`) that get their own words.
    enum SSLReason {
        static let certificateVerifyFailed = 125
        static let httpsProxyRequest = 155
        static let httpRequest = 156
        static let noSharedCipher = 184
        static let unsupportedProtocol = 240
        static let wrongVersionNumber = 247
        static let alertHandshakeFailure = 1040
        static let alertBadCertificate = 1042
        static let alertUnsupportedCertificate = 1043
        static let alertCertificateRevoked = 1044
        static let alertCertificateExpired = 1045
        static let alertCertificateUnknown = 1046
        static let alertUnknownCA = 1048
        static let alertAccessDenied = 1049
        static let alertDecryptError = 1051
        static let alertProtocolVersion = 1070
        static let alertCertificateRequired = 1116
    }

    /// `ERR_LIB_SSL`.
    static let sslLibrary = 16

    /// The SSL-library reason code of one BoringSSL error, nil for other libraries.
    static func sslReason(_ error: BoringSSLInternalError) -> Int? {
        guard let code = packedCode(error) else { return nil }
        guard Int((code >> 24) & 0xff) == sslLibrary else { return nil }
        return Int(code & 0xfff)
    }

    /// BoringSSL's packed error code (library, reason), nil for a synthetic error.
    ///
    /// NIOSSL keeps the code in a private `backing` enum (`boringSSLErrorInfo(code, file,
    /// line)`) and shows it only inside its `description`; reading the typed value by
    /// reflection keeps us from parsing text.
    static func packedCode(_ error: BoringSSLInternalError) -> UInt32? {
        for child in Mirror(reflecting: error).children where child.label == "backing" {
            for info in Mirror(reflecting: child.value).children where info.label == "boringSSLErrorInfo" {
                return Mirror(reflecting: info.value).children.first?.value as? UInt32
            }
        }
        return nil
    }

    // MARK: - Parts of sentences

    var components: URLComponents? { URLComponents(string: url) }
    var host: String { components?.host ?? url }
    var scheme: String { components?.scheme?.lowercased() ?? "" }
    var isTLS: Bool { scheme == "https" || scheme == "wss" }
    var isPlainHTTP: Bool { scheme == "http" || scheme == "ws" }
    var hostAndPort: String {
        let port = components?.port ?? (isTLS ? 443 : 80)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    var unknownHost: String { "unknown host \(host) (check the name, or give an IP address)" }

    /// A connection closed without an answer: to a plain `http://` URL that is what a TLS
    /// server does with a request that is not a TLS handshake.
    var resetReason: String {
        isPlainHTTP
            ? "the server closed the connection without answering; if it speaks HTTPS (as icon server does), use https://"
            : "the server closed the connection without answering"
    }

    var notTrusted: String {
        if let ca = tls.caCertPath {
            return "the server's certificate is not trusted: it does not chain to \(tls.flags.ca) \(ca) (or is expired)"
        }
        return "the server's certificate is not trusted by the system CAs; give its CA with \(tls.flags.ca)"
    }

    var clientCertificateName: String {
        tls.clientCertPath.map { " (\(tls.flags.cert) \($0))" } ?? ""
    }

    var clientCertificateMissing: String {
        tls.clientCertPath == nil
            ? "the server requires a client certificate: give \(tls.flags.cert) and \(tls.flags.key)"
            : "the server refused our client certificate\(clientCertificateName)"
    }
}
