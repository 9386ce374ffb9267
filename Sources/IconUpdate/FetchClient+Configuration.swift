import IconTLS

extension FetchClient {
    /// The client for one fetch: the configuration's TLS files and connect timeout.
    ///
    /// - Throws: `.invalidArgument` for a certificate without a key (or the reverse),
    ///   `.notFound`/`.io` for a missing or unreadable file, `.badKey` for one that does not
    ///   parse or a key that does not match the certificate.
    init(configuration: FetcherConfiguration) throws {
        try self.init(files: configuration.tlsFiles, connectTimeout: configuration.connectTimeout)
    }
}
