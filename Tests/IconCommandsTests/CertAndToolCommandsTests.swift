import ArgumentParser
import Foundation
import IconCertServer
@testable import IconCommands
import IconCore
import Testing

@Suite("certserver, certclient, wait-for-service and fetch-archive command lines")
struct CertAndToolCommandsTests {
    @Test func certserverParsesTheDocumentedFlagsIntoAPolicy() throws {
        let command = try CertServerRun.parse([
            "--cert", "s.pem", "--key", "s.key", "--client-ca-cert", "m.pem", "--issuer-cert", "ca.pem", "--issuer-key", "ca.key",
            "--subject", "/O=Ex/CN=SYSTEMID", "--key-type", "p384", "--key-type", "rsa", "--usage", "clientAuth", "--usage", "serverAuth",
            "--validity-days", "90", "--log-file", "issued.jsonl",
        ])
        let policy = try command.makePolicy()
        #expect(policy.allowedKeyTypes == [.p384, .rsa])
        #expect(policy.extendedKeyUsages == [.clientAuth, .serverAuth])
        #expect(policy.validityDays == 90)
        #expect(command.clientCACert == "m.pem")
        #expect(command.logFile == "issued.jsonl")
        #expect(command.requestsPerMinute == 30)
        let limited = try CertServerRun.parse([
            "--cert", "s.pem", "--key", "s.key", "--client-ca-cert", "m.pem", "--issuer-cert", "ca.pem", "--issuer-key", "ca.key",
            "--subject", "/CN=SYSTEMID", "--requests-per-minute", "5",
        ])
        #expect(limited.requestsPerMinute == 5)
    }

    @Test func certserverPolicyFlagErrorsNameTheFlag() throws {
        let base = ["--cert", "s", "--key", "k", "--client-ca-cert", "m", "--issuer-cert", "c", "--issuer-key", "k"]
        for (extra, flag) in [([], "--subject"), (["--subject", "/CN=SYSTEMID", "--key-type", "dsa"], "--key-type"),
                              (["--subject", "/CN=SYSTEMID", "--usage", "codeSigning"], "--usage"),
                              (["--policy", "p.json", "--subject", "/CN=SYSTEMID"], "--policy")] {
            let command = try CertServerRun.parse(base + extra)
            let error = #expect(throws: IconError.self) { _ = try command.makePolicy() }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(flag) == true, "\(extra)")
        }
    }

    @Test func certclientParsesTheOriginalFlags() throws {
        // The original's names (--ca-cert, --client-cert, --client-key), as `icon` rewrites them.
        let command = try CertClient.parse(Array(RenamedFlags.rewrite([
            "certclient", "--server", "https://certserver/", "--ca-cert", "ca.pem", "--client-cert", "c.pem",
            "--client-key", "k.pem", "--tag", "www", "--subject", "/C=US/ST=California/O=XXXX/OU=XXXX Test/CN=SYSTEMID",
            "--dh-bits", "2048",
        ]).dropFirst()))
        #expect(command.httpsCACert == "ca.pem" && command.httpsClientCert == "c.pem" && command.httpsClientKey == "k.pem")
        #expect(command.systemidDir == "/systemid")
        #expect(command.request.dhBits == 2048)
        #expect(command.hostname == nil)
    }

    @Test func waitForServiceFailsWithANetworkErrorAfterTheTimeout() async throws {
        let command = try WaitForService.parse(["--host", "127.0.0.1", "--service", "1", "--timeout", "0.5"])
        let error = await #expect(throws: IconError.self) { try await command.run() }
        #expect(error?.code == .network)
        #expect(throws: (any Error).self) { _ = try WaitForService.parse(["--host", "h", "--service", "1", "--timeout", "-1"]) }
    }

    @Test func fetchArchiveParsesTheTLSFlags() throws {
        let command = try FetchArchive.parse([
            "--url", "https://x/a.tar", "--dest-dir", "/tmp/x", "--https-ca-cert", "ca.pem", "--https-client-cert", "c.pem", "--https-client-key", "k.pem",
        ])
        #expect(command.https.httpsCACert == "ca.pem")
        #expect(command.https.httpsClientKey == "k.pem")
    }
}
