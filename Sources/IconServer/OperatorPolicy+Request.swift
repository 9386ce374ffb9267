import Hummingbird
import IconCore

extension OperatorPolicy {
    /// Lets the request through only when its client certificate is an operator's.
    ///
    /// - Throws: `IconError(.permission)` (answered with 403) naming the path.
    func requireOperator(_ request: Request, context: ServerRequestContext) async throws {
        guard let certificate = await context.peerCertificate(), await admits(certificate) else {
            throw IconError(.permission, "\(request.uri.path) is for operators; \(await context.peerSubject()) is not one")
        }
    }
}
