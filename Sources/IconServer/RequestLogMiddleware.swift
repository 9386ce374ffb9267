import Hummingbird
import IconCore
import Logging

/// Logs one line per request (method, path, status, client subject) and turns errors into
/// bare statuses: an `IconError` becomes the status of its code, and no message or cause is
/// ever sent to the client.
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
            response = Response(status: Self.status(for: error.code))
            reason = error.description
        } catch let error as HTTPError {
            response = Response(status: error.status)
        } catch {
            response = Response(status: .internalServerError)
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
}
