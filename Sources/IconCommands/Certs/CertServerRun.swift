public import ArgumentParser
import Foundation
import IconCertServer
import IconCore
import IconServer
import Logging

/// `icon certserver`: the certificate service for machines.
public struct CertServerRun: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "certserver",
        abstract: "Serve a certificate authority that signs machines' certificate requests over mutual TLS.",
        discussion: """
            Only clients presenting a certificate that chains to --client-ca-cert get past the TLS \
            handshake. When --client-ca-cert is the CA of the certificates this server issues (it \
            holds --issuer-cert or a CA --issuer-cert chains to), any device could mint certificates, \
            so only provisioner certificates (icon pki issue --role provisioner) are admitted, as the \
            server says at start; others get 403 with the reason. A separate client CA (the \
            original's "master" certificates built into images) admits every certificate it issued. \
            Each requester certificate may make --requests-per-minute requests in any minute; more \
            get 429 with Retry-After. Requesters POST a PEM certificate signing request to / or \
            /sign with Content-Type: application/x-pem-file and get back the signed certificate \
            followed by the CA chain, same content type.

            The machine id is the request's CN; it must match the policy's pattern (six lowercase hex \
            digits by default). The issued subject comes from the policy's template with SYSTEMID \
            replaced by that id, which is also the certificate's DNS name (when it is a host name), \
            the name the fleet hub knows the machine by; nothing else of the request's subject is \
            used. A malformed request, \
            one whose signature does not verify, or one whose key type or id the policy refuses gets \
            HTTP 400 with the reason; a wrong content type gets 415. Every issuance is logged and \
            appended to --log-file as a JSON line (time, requester, systemID, subject, serial).

            The policy comes from --policy (JSON with subjectTemplate, systemIDPattern, \
            allowedKeyTypes, minimumRSABits, validityDays, extendedKeyUsages) or from the flags.

            Example:
              icon certserver --listen 0.0.0.0:8444 \\
                --cert server.chain.pem --key server.key.pem \\
                --client-ca-cert provisioners-ca.cert.pem \\
                --issuer-cert machines-ca.cert.pem --issuer-key machines-ca.key.pem \\
                --subject '/C=US/ST=California/O=Example/CN=SYSTEMID' \\
                --log-file /var/log/icon/issued.jsonl
            """)

    @Option(help: ArgumentHelp("Address and port to listen on ([v6]:port for IPv6).", valueName: "host:port"))
    var listen: String?
    @Option(help: .hidden)
    var host: String?
    @Option(help: .hidden)
    var port: Int?
    @Option(help: ArgumentHelp("PEM file with the server's TLS certificate followed by its chain.", valueName: "file"))
    var cert: String
    @Option(help: ArgumentHelp("PEM file with the server's TLS private key.", valueName: "file"))
    var key: String
    @Option(help: ArgumentHelp("PEM file with the CA(s) that requesters' certificates must chain to; the issuer's own CA admits provisioners only.", valueName: "file"))
    var clientCACert: String
    @Option(help: ArgumentHelp("PEM file with the CA certificate that signs machines' certificates.", valueName: "file"))
    var issuerCert: String
    @Option(help: ArgumentHelp("PEM file with the private key of --issuer-cert (keep it 0600).", valueName: "file"))
    var issuerKey: String
    @Option(help: ArgumentHelp("PEM file of extra certificates to send after the issuer (its own issuers).", valueName: "file"))
    var issuerChain: String?
    @Option(help: ArgumentHelp("JSON policy file; when given, the policy flags below are not allowed.", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Subject template of issued certificates; SYSTEMID is replaced by the machine id.", valueName: "subject"))
    var subject: String?
    @Option(help: ArgumentHelp("Regular expression the whole machine id (the request's CN) must match.", valueName: "regex"))
    var systemIDPattern = CertPolicy.defaultSystemIDPattern
    @Option(name: .customLong("key-type"), help: ArgumentHelp("Key type a request may carry: p256, p384 or rsa (repeat; default all).", valueName: "type"))
    var keyTypes: [String] = []
    @Option(help: ArgumentHelp("Days an issued certificate is valid.", valueName: "n"))
    var validityDays = 365
    @Option(name: .customLong("usage"), help: ArgumentHelp("Extended key usage of issued certificates: clientAuth or serverAuth (repeat; default clientAuth).", valueName: "usage"))
    var usages: [String] = []
    @Option(help: ArgumentHelp("File to append a JSON line to for every issued certificate.", valueName: "file"))
    var logFile: String?
    @Option(help: ArgumentHelp("Certificate requests one requester certificate may make in any minute; more get 429.", valueName: "n"))
    var requestsPerMinute = 30

    public init() {}

    public func run() async throws {
        let policy = try makePolicy()
        let (host, port) = try address()
        let issuer = try CertIssuer(caCertPath: issuerCert, caKeyPath: issuerKey, chainPath: issuerChain, policy: policy)
        let server = CertServer(
            configuration: .init(
                host: host, port: port, serverCertPath: cert, serverKeyPath: key, clientCAPath: clientCACert,
                requestsPerMinute: requestsPerMinute),
            issuer: issuer, issuanceLog: logFile.map(IssuanceLog.init(path:)), logger: Logger(label: "icon.certserver"))
        try await server.run()
    }

    /// Where to listen: `--listen host:port`, or the old `--host`/`--port` (hidden; default
    /// 0.0.0.0:8443).
    ///
    /// - Throws: `.invalidArgument` naming `--listen`.
    func address() throws -> (host: String, port: Int) {
        if let listen {
            guard host == nil, port == nil else {
                throw IconError(.invalidArgument, "--listen replaces --host and --port; give only --listen \(listen)")
            }
            return try ServerRun.parseListen(listen)
        }
        let port = port ?? 8443
        guard (0...65535).contains(port) else {
            throw IconError(.invalidArgument, "--listen: port \(port) is not between 0 and 65535")
        }
        return (host ?? "0.0.0.0", port)
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
