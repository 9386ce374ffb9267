import Hummingbird
import IconCore
import X509

extension OperatorPolicy {
    /// Lets the request through only when it comes from no other site (``OriginPolicy``) and
    /// its client certificate is an operator's.
    ///
    /// - Throws: `IconError(.permission)` (answered with 403 and the message) naming the path
    ///   and the foreign origin, or what the certificate is instead.
    func requireOperator(_ request: Request, context: ServerRequestContext) async throws {
        try origins.require(path: request.uri.path, origin: request.headers[.origin], host: request.head.authority)
        try await requireOperator(path: request.uri.path, context: context)
    }

    /// Throws unless the client of `context` is an operator; `path` names the endpoint.
    func requireOperator(path: String, context: ServerRequestContext) async throws {
        let chain = await context.peerChain()
        guard await admits(chain) else {
            throw IconError(.permission, Self.refusal(path: path, certificate: chain.first))
        }
    }

    /// `/api/machines needs an operator certificate; CN=robot-17 is a device`.
    static func refusal(path: String, certificate: Certificate?) -> String {
        "\(path) needs an operator certificate; \(describe(certificate))"
    }
}
