import Hummingbird
import IconCore
import Logging

/// Logs one line per request (method, path, status, client subject) and turns errors into
/// responses: an `IconError` gets the status of its code; a 4xx carries its message as one
/// line of text/plain (clients show it: why they were refused, what was not found), a 5xx only
/// a generic line. A cause is never sent to the client.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        var reason: String?
        do {
            response = try await next(request, context)
        } catch let error as IconError {
            let status = Self.status(for: error.code)
            response = Self.text(status, status.code < 500 ? error.message : Self.generic(status), head: request.method == .head)
            reason = error.description
        } catch let error as HTTPError {
            response = Response(status: error.status)
        } catch {
            response = Self.text(.internalServerError, Self.generic(.internalServerError), head: request.method == .head)
            reason = String(describing: error)
        }
        var metadata: Logger.Metadata = [:]
        if let reason { metadata["reason"] = .string(reason) }
        let subject = await context.peerSubject()
        logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code) \(subject)", metadata: metadata)
        return response
    }

    /// The HTTP status an error code maps to.
    static func status(for code: IconError.Code) -> HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .invalidArgument, .malformed: .badRequest
        case .permission, .untrusted, .badSignature, .tls: .forbidden
        case .network: .badGateway
        default: .internalServerError
        }
    }

    /// Largest body of an error response, in bytes (clients rely on less than 1 KiB).
    static let maximumBodyBytes = 1000

    /// A response whose body is `line` (one line, clipped to ``maximumBodyBytes``) and a newline;
    /// the same headers without the body for `HEAD`.
    static func text(_ status: HTTPResponse.Status, _ line: String, head: Bool = false) -> Response {
        let flat = line.split(whereSeparator: \.isNewline).joined(separator: " ")
        let body = CloseReason.clip(CloseReason.printable(flat), to: maximumBodyBytes - 1) + "\n"
        let headers: HTTPFields = [
            .contentType: "text/plain; charset=utf-8", .cacheControl: "no-store", .contentLength: String(body.utf8.count),
            // The line may quote the request path: never let a browser take it for markup.
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        if head { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: body)))
    }

    /// The body of a 5xx: the status only; what went wrong is in the server log.
    static func generic(_ status: HTTPResponse.Status) -> String {
        "\(status.code) \(status.reasonPhrase): see the server log"
    }
}
