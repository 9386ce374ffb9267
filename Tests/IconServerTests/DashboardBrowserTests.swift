import AsyncHTTPClient
import Foundation
import IconManifest
import IconProtocol
import IconServer
import IconTestSupport
import Testing

/// The dashboard in a real headless Chromium (Debian's package, over chromedriver), talking to
/// the server over mTLS with an operator certificate it picks without a prompt.
///
/// Fails (does not skip) when chromium, chromedriver or the NSS tools are missing, and needs
/// root for its short-lived policy file (see `HeadlessChromium`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DashboardBrowserTests {
    static let imageType = "kiosk"
    static let timestamps = [1_700_000_100, 1_700_000_200]

    /// Writes two tiny ISOs under `<images>/kiosk` and publishes a signed manifest for them.
    static func publishKioskImages(_ fixture: ServerFixture) async throws {
        let directory = fixture.imagePath + "/" + imageType
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for timestamp in timestamps {
            try miniISO(volumeID: "KIOSK-\(timestamp)").write(to: URL(fileURLWithPath: "\(directory)/\(timestamp).iso"))
        }
        _ = try await Publisher.publish(
            imageDir: directory, certPath: fixture.pki.signer.certPath, keyPath: fixture.pki.signer.keyPath,
            otherCertPaths: [fixture.pki.intermediate.certPath], defaultRollout: 10_000, now: Date())
    }

    /// 16 empty sectors, a primary volume descriptor naming `volumeID`, a terminator.
    static func miniISO(volumeID: String) -> Data {
        let sector = 2048
        var pvd = [UInt8](repeating: 0, count: sector)
        pvd[0] = 1
        pvd.replaceSubrange(1...5, with: Array("CD001".utf8))
        pvd[6] = 1
        let id = Array(volumeID.utf8.prefix(32))
        pvd.replaceSubrange(40..<72, with: id + [UInt8](repeating: 0x20, count: 32 - id.count))
        var terminator = [UInt8](repeating: 0, count: sector)
        terminator[0] = 255
        terminator.replaceSubrange(1...5, with: Array("CD001".utf8))
        terminator[6] = 1
        return Data([UInt8](repeating: 0, count: 16 * sector) + pvd + terminator)
    }

    /// Runs `body` with the server, a WebDriver session whose browser holds the operator
    /// certificate, and the page origin; always ends the browser and removes the policy.
    func withBrowser(
        _ body: @Sendable (ServerFixture, Int, WebDriverSession, String) async throws -> Void
    ) async throws {
        let fixture = try ServerFixture()
        // ICON_KEEP_TEST_DIRS=1 keeps the directory (chromedriver.log, the NSS profile) to debug a failure.
        defer { if ProcessInfo.processInfo.environment["ICON_KEEP_TEST_DIRS"] == nil { fixture.remove() } }
        try await Self.publishKioskImages(fixture)
        var configuration = try fixture.configuration()
        configuration.imageTypes = ["demo", Self.imageType]
        // Chromium sends only the leaf of an NSS client certificate, so the server must know the
        // intermediate as well (as a deployment whose operators use browsers would configure it).
        configuration.clientCAPath = try fixture.bundle("client-ca.pem", [fixture.pki.root.certPath, fixture.pki.intermediate.certPath])
        let operatorIdentity = try fixture.operatorIdentity()
        try await fixture.withServer(configuration) { port in
            let origin = "https://localhost:\(port)"
            let chromium = try HeadlessChromium(
                directory: fixture.directory.join("browser"), origin: origin, pki: fixture.pki, operatorIdentity: operatorIdentity)
            defer { chromium.stop() }
            try await HTTPClient.withHTTPClient { client in
                let session = try await chromium.session(client: client)
                do {
                    try await body(fixture, port, session, origin)
                } catch {
                    await session.close()
                    throw error
                }
                await session.close()
            }
        }
    }

    static func report(timestamp: Int, status: String = "", bootSafety: String = "") -> String {
        #"{"type":"report","data":{"hostname":"device-1","image_type":"kiosk","uptime_seconds":3725,"#
            + #""timestamp":\#(timestamp),"volume_id":"KIOSK-\#(timestamp)","next_timestamp":\#(timestamp),"#
            + #""next_volume_id":"KIOSK-\#(timestamp)",\#(bootSafety)"status":"\#(status)"}}"#
    }

    /// The boot-safety fields of a machine that fell back from the second image to the first.
    static var rollbackFields: String {
        #""good_images":[\#(timestamps[0])],"bad_images":[\#(timestamps[1])],"#
            + #""last_rollback":{"failed":\#(timestamps[1]),"running":\#(timestamps[0]),"#
            + #""reason":"image \#(timestamps[1]) did not prove itself within 1 boot try","at":1800000000},"#
    }

    static var rollbackStatus: String {
        "ok — rolled back from \(timestamps[1]) to \(timestamps[0]) (image \(timestamps[1]) did not prove itself within 1 boot try)"
    }

    @Test("the page loads without console errors, shows a reporting machine, sends Select as a reboot, marks it stale")
    func dashboardDrivesTheFleet() async throws {
        try await withBrowser { fixture, port, browser, origin in
            try await fixture.withHubClient(
                port: port, path: "/ws/slave", subprotocol: HubSubprotocol.slave, identity: fixture.pki.device
            ) { machine in
                // Keep reporting until the stale check, as an agent does every 5 s.
                let reporter = Task {
                    while !Task.isCancelled {
                        machine.sendRaw(Self.report(timestamp: Self.timestamps[0], status: "ok", bootSafety: Self.rollbackFields))
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                defer { reporter.cancel() }
                try await browser.navigate(origin + "/?stale=2")
                try await browser.waitUntil(
                    "the live badge", script: #"return document.getElementById("connection").textContent === "live";"#)
                let rowSelector = #"section#type-kiosk tr.machine[data-hostname="device-1"]"#
                try await browser.waitUntil(
                    "device-1 in the kiosk table",
                    script: "const r = document.querySelector(arguments[0]); return !!r && r.querySelector('td.status').textContent === arguments[1];",
                    [rowSelector, Self.rollbackStatus])
                // Boot safety: the good and bad images and the last rollback are in the row.
                let health = try await browser.execute(
                    "const r = document.querySelector(arguments[0]); return [r.querySelector('td.health .good').textContent, r.querySelector('td.health .bad').textContent];",
                    [rowSelector]) as? [String]
                #expect(health == [String(Self.timestamps[0]), String(Self.timestamps[1])])
                let cells = try await browser.execute(
                    "return [...document.querySelector(arguments[0]).cells].map(c => c.textContent);", [rowSelector]) as? [String]
                #expect(cells?[0] == "device-1")
                #expect(cells?[2] == "1h 2m")
                #expect(cells?[3] == String(Self.timestamps[0]))
                #expect(cells?[4] == "KIOSK-\(Self.timestamps[0])")
                let inDemo = try await browser.execute(
                    #"return document.querySelectorAll('section#type-demo tr.machine').length;"#) as? Int
                #expect(inDemo == 0)
                let stale = try await browser.execute(
                    "return document.querySelector(arguments[0]).classList.contains('stale');", [rowSelector]) as? Bool
                #expect(stale == false)

                // Clicking the row opens the manifest's versions; Select sends the reboot command.
                try await browser.click(rowSelector)
                let target = Self.timestamps[1]
                let selectButton = #"#dialog-versions button.select[data-timestamp="\#(target)"]"#
                try await browser.waitUntil(
                    "the versions from the manifest", script: "return document.querySelectorAll('#dialog-versions button.select').length === 2;")
                let rollout = try await browser.execute(
                    "return document.querySelector(arguments[0]).closest('tr').cells[2].textContent;", [selectButton]) as? String
                #expect(rollout == "100.00 %")
                let versionState = try await browser.execute(
                    "return document.querySelector(arguments[0]).closest('tr').cells[3].textContent;", [selectButton]) as? String
                #expect(versionState == "bad")
                try await browser.click(selectButton)
                let command = await machine.waitFor(timeout: .seconds(5)) {
                    if case .command = $0 { true } else { false }
                }
                guard case .command(let sent)? = command else {
                    Issue.record("device-1 received no command after Select: \(machine.messages)")
                    return
                }
                #expect(sent.target == "device-1")
                #expect(sent.data == CommandData(command: "reboot", timestamp: target))
                #expect(sent.id != nil && sent.received != nil)

                // Silence: the row turns stale after the page's threshold (2 s here).
                reporter.cancel()
                _ = try await browser.execute("document.getElementById('machine-dialog').close(); return null;")
                try await browser.waitUntil(
                    "the stale class on device-1", timeout: .seconds(8),
                    script: "return document.querySelector(arguments[0]).classList.contains('stale');", [rowSelector])
            }
            // A probe line proves the console log really reaches the test, so an empty list means something.
            _ = try await browser.execute("console.log('icon-log-probe'); return null;")
            let log = try await browser.browserLog()
            #expect(log.contains { $0.message.contains("icon-log-probe") }, "the browser log was not collected: \(log)")
            let problems = log.filter { $0.level == "SEVERE" || $0.level == "WARNING" }
            #expect(problems.isEmpty, "browser console: \(problems.map { "\($0.level): \($0.message)" })")
        }
    }

    @Test("the label page draws a Code 39 barcode that zbarimg decodes")
    func labelBarcodeDecodes() async throws {
        try await withBrowser { fixture, _, browser, origin in
            try await browser.navigate(origin + "/label.html?id=a1b2c3")
            try await browser.waitUntil(
                "the label", script: "return !document.getElementById('label').hidden && document.querySelectorAll('#barcode rect').length > 0;")
            let text = try await browser.execute("return document.getElementById('label-text').textContent;") as? String
            #expect(text == "A1B2C3")
            let png = fixture.directory.join("label.png")
            try await browser.screenshot().write(to: URL(fileURLWithPath: png))
            let decoded = try Self.zbarimg(png)
            #expect(decoded == ["CODE-39:A1B2C3"])
            let log = try await browser.browserLog()
            #expect(log.filter { $0.level == "SEVERE" }.isEmpty, "browser console: \(log)")
        }
    }

    /// The symbols zbarimg finds in `path`, one per line (`TYPE:DATA`).
    static func zbarimg(_ path: String) throws -> [String] {
        let tool = "/usr/bin/zbarimg"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw WebDriverError(description: "\(tool) is missing: install zbar-tools (scripts/setup.sh)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-q", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").map(String.init)
    }
}
