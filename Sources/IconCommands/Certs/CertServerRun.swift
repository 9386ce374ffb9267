import ArgumentParser
import Foundation
import IconCore
import IconServer
import Logging

/// `icon certserver`: the certificate service for machines.
public struct CertServerRun: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "certserver",
        abstract: "Serve a certificate authority that signs machines' certificate requests over mutual TLS.",
        discussion: """
            Only clients presenting a certificate that chains to --client-ca-cert (the "master" client \
            certificates built into images) get past the TLS handshake. They POST a PEM certificate \
            signing request to / or /sign with Content-Type: application/x-pem-file and get back the \
            signed certificate followed by the CA chain, same content type.

            The machine id is the request's CN; it must match the policy's pattern (six lowercase hex \
            digits by default). The issued subject comes from the policy's template with SYSTEMID \
            replaced by that id; nothing else of the request's subject is used. A malformed request, \
            one whose signature does not verify, or one whose key type or id the policy refuses gets \
            HTTP 400 with the reason; a wrong content type gets 415. Every issuance is logged and \
            appended to --log-file as a JSON line (time, requester, systemID, subject, serial).

            The policy comes from --policy (JSON with subjectTemplate, systemIDPattern, \
            allowedKeyTypes, minimumRSABits, validityDays, extendedKeyUsages) or from the flags.

            Example:
              icon certserver --server-cert server.chain.pem --server-key server.key.pem \\
                --client-ca-cert master-ca.cert.pem --ca-cert machines-ca.cert.pem \\
                --ca-key machines-ca.key.pem --subject '/C=US/ST=California/O=Example/CN=SYSTEMID' \\
                --log-file /var/log/icon/issued.jsonl
            """)

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"
    @Option(help: "TCP port to listen on.")
    var port = 8443
    @Option(help: "PEM file with the server's certificate (and chain) for TLS.")
    var serverCert: String
    @Option(help: "PEM file with the server's TLS private key.")
    var serverKey: String
    @Option(help: "PEM file with the CA(s) that client (master) certificates must chain to.")
    var clientCACert: String
    @Option(help: "PEM file with the CA certificate that signs machines' certificates.")
    var caCert: String
    @Option(help: "PEM file with the private key of --ca-cert (keep it 0600).")
    var caKey: String
    @Option(help: "PEM file of extra certificates to send after the CA (its own issuers).")
    var caChain: String?
    @Option(help: "JSON policy file; when given, the policy flags below are not allowed.")
    var policy: String?
    @Option(help: "Subject template of issued certificates; SYSTEMID is replaced by the machine id.")
    var subject: String?
    @Option(help: "Regular expression the whole machine id (the request's CN) must match.")
    var systemIDPattern = CertPolicy.defaultSystemIDPattern
    @Option(name: .customLong("key-type"), help: "Key type a request may carry: p256, p384 or rsa (repeat; default all).")
    var keyTypes: [String] = []
    @Option(help: "Days an issued certificate is valid.")
    var validityDays = 365
    @Option(name: .customLong("usage"), help: "Extended key usage of issued certificates: clientAuth or serverAuth (repeat; default clientAuth).")
    var usages: [String] = []
    @Option(help: "File to append a JSON line to for every issued certificate.")
    var logFile: String?

    public init() {}

    public func run() async throws {
        let policy = try makePolicy()
        let issuer = try CertIssuer(caCertPath: caCert, caKeyPath: caKey, chainPath: caChain, policy: policy)
        let server = CertServer(
            configuration: .init(host: host, port: port, serverCertPath: serverCert, serverKeyPath: serverKey, clientCAPath: clientCACert),
            issuer: issuer, issuanceLog: logFile.map(IssuanceLog.init(path:)), logger: Logger(label: "icon.certserver"))
        try await server.run()
    }

    /// The policy from `--policy` or from the flags.
    ///
    /// - Throws: `.invalidArgument` naming the flag at fault.
    func makePolicy() throws -> CertPolicy {
        if let policy {
            guard subject == nil, keyTypes.isEmpty, usages.isEmpty else {
                throw IconError(.invalidArgument, "--policy cannot be combined with --subject, --key-type or --usage")
            }
            return try CertPolicy.load(path: policy)
        }
        guard let subject else {
            throw IconError(.invalidArgument, "--subject (or --policy) is required")
        }
        let types = try keyTypes.map { name in
            guard let type = CertPolicy.KeyType(rawValue: name.lowercased()) else {
                throw IconError(.invalidArgument, "--key-type \(name) is not one of p256, p384, rsa")
            }
            return type
        }
        let usageList = try usages.map { name in
            guard let usage = CertPolicy.Usage(rawValue: name) else {
                throw IconError(.invalidArgument, "--usage \(name) is not clientAuth or serverAuth")
            }
            return usage
        }
        let policy = CertPolicy(
            subjectTemplate: subject, systemIDPattern: systemIDPattern,
            allowedKeyTypes: types.isEmpty ? CertPolicy.KeyType.allCases : types,
            validityDays: validityDays, extendedKeyUsages: usageList.isEmpty ? [.clientAuth] : usageList)
        try policy.validate(source: "the flags")
        return policy
    }
}
