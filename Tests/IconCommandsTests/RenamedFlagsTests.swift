import Testing

@testable import IconCommands
import ArgumentParser

@Suite("old flag names keep working, hidden from --help")
struct RenamedFlagsTests {
    @Test("an old name given to its subcommand becomes the new one, in both spellings")
    func rewritesOldNamesOfTheSubcommand() {
        #expect(RenamedFlags.rewrite(["certserver", "--server-cert", "s.pem", "--ca-key=k.pem", "--subject", "/CN=SYSTEMID"])
            == ["certserver", "--cert", "s.pem", "--issuer-key=k.pem", "--subject", "/CN=SYSTEMID"])
        #expect(RenamedFlags.rewrite(["module", "certclient", "--ca-cert", "ca.pem", "--client-key", "k"])
            == ["module", "certclient", "--https-ca-cert", "ca.pem", "--https-client-key", "k"])
        #expect(RenamedFlags.rewrite(["build-image", "--image-dir", "/srv/icon/images"]) == ["build-image", "--image-path", "/srv/icon/images"])
    }

    @Test("other subcommands, values and words after -- are left alone")
    func leavesEverythingElse() {
        // --ca-cert means the manifest CA in fetch; it is not renamed there.
        let fetch = ["fetch", "--ca-cert", "root.pem", "--image-dir", "/boot/iconograph"]
        #expect(RenamedFlags.rewrite(fetch) == fetch)
        // `icon module certclient` alone is renamed, not the certclient words inside a --module value.
        let build = ["build-image", "--module", "icon module certclient --ca-cert x", "--", "--image-dir"]
        #expect(RenamedFlags.rewrite(build) == build)
        #expect(RenamedFlags.rewrite(["certclient", "--", "--ca-cert"]) == ["certclient", "--", "--ca-cert"])
        #expect(RenamedFlags.rewrite(["certclient", "--ca-certificate", "x"]) == ["certclient", "--ca-certificate", "x"])
    }

    @Test("each old name parses into its command, and the new names are in --help without the old ones")
    func oldNamesParse() throws {
        let old = ["certserver", "--server-cert", "s.pem", "--server-key", "s.key", "--client-ca-cert", "m.pem",
                   "--ca-cert", "ca.pem", "--ca-key", "ca.key", "--ca-chain", "chain.pem", "--subject", "/CN=SYSTEMID"]
        let server = try CertServerRun.parse(Array(RenamedFlags.rewrite(old).dropFirst()))
        #expect([server.cert, server.key, server.issuerCert, server.issuerKey, server.issuerChain] == ["s.pem", "s.key", "ca.pem", "ca.key", "chain.pem"])
        let client = try CertClient.parse(Array(RenamedFlags.rewrite(
            ["certclient", "--server", "https://c:8444", "--ca-cert", "ca.pem", "--client-cert", "c.pem", "--client-key", "c.key",
             "--tag", "www", "--subject", "/CN=SYSTEMID"]).dropFirst()))
        #expect([client.httpsCACert, client.httpsClientCert, client.httpsClientKey] == ["ca.pem", "c.pem", "c.key"])
        let help = CertServerRun.helpMessage()
        #expect(help.contains("--issuer-cert <file>") && !help.contains("--server-cert") && !help.contains("--ca-key"))
        #expect(!CertClient.helpMessage().contains("--client-cert"))
        #expect(!BuildImage.helpMessage().contains("--image-dir"))
    }

    @Test("certserver listens on --listen host:port; the old --host and --port still work")
    func certserverListen() throws {
        let base = ["--cert", "s", "--key", "k", "--client-ca-cert", "m", "--issuer-cert", "c", "--issuer-key", "k"]
        let listen = try CertServerRun.parse(base + ["--listen", "127.0.0.1:8444"]).address()
        #expect(listen.host == "127.0.0.1" && listen.port == 8444)
        let old = try CertServerRun.parse(base + ["--host", "::1", "--port", "9"]).address()
        #expect(old.host == "::1" && old.port == 9)
        let both = try CertServerRun.parse(base + ["--listen", "127.0.0.1:1", "--port", "9"])
        #expect(throws: (any Error).self) { try both.address() }
    }
}
