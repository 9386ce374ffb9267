public import ArgumentParser
import IconPKI

/// `icon pki`: the private CA and certificate tools.
public struct PKICommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Run a private CA: create it, issue certificates, check and show them.",
        discussion: """
            Iconograph trusts exactly the CA you give it. `icon pki init` creates a root and an \
            intermediate CA in a directory; `icon pki issue` makes a key and certificate for each \
            role: a manifest signer, an HTTPS server, a device client, an operator client or a \
            provisioner (whom icon certserver issues machine certificates to).

            Example, a CA and one certificate of each kind:
              icon pki init ca --name "Example Fleet" --organization "Example Inc"
              icon pki issue --ca-dir ca --role signer --name "Release Signer" \\
                --out keys/signer
              icon pki issue --ca-dir ca --role server --name images.example.org \\
                --ip 192.0.2.10 --out keys/server
              icon pki issue --ca-dir ca --role device --name kiosk-1 \\
                --dns kiosk-1 --out keys/kiosk-1
              icon pki issue --ca-dir ca --role operator --name alice --out keys/alice
              icon pki verify --ca-cert ca/root.cert.pem \\
                --other-cert keys/signer.chain.pem keys/signer.cert.pem
            """,
        subcommands: [PKIInit.self, PKIIssue.self, PKIRevoke.self, PKIVerify.self, PKIShow.self]
    )

    public init() {}
}

extension CertificateRole: ExpressibleByArgument {}
