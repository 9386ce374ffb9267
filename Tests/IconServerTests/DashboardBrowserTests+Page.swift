import AsyncHTTPClient
import Foundation
import IconManifest
import IconProtocol
import IconServer
import IconTestSupport
import Testing

/// The browser tests' setup: the server, the browser, the test fleet, and what they read and check.
extension DashboardBrowserTests {
    /// Writes two tiny ISOs under `<images>/kiosk` and publishes a signed manifest for them.
    static func publishKioskImages(_ fixture: ServerFixture) async throws {
        let directory = fixture.imagePath + "/" + Fleet.type
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for timestamp in [Fleet.old, Fleet.new] {
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

    /// Runs `body` with the server (with `--state-dir` when `stateDirectory`, seeded by `prepare`
    /// before it starts), a WebDriver session whose browser holds the operator certificate, and
    /// the page origin; always ends the browser and removes the policy.
    func withBrowser(
        stateDirectory: Bool = true,
        prepare: @Sendable (ServerFixture, String) async throws -> Void = { _, _ in },
        _ body: @Sendable (ServerFixture, Int, WebDriverSession, String) async throws -> Void
    ) async throws {
        let fixture = try ServerFixture()
        // ICON_KEEP_TEST_DIRS=1 keeps the directory (chromedriver.log, the NSS profile) to debug a failure.
        defer { if ProcessInfo.processInfo.environment["ICON_KEEP_TEST_DIRS"] == nil { fixture.remove() } }
        try await Self.publishKioskImages(fixture)
        var configuration = try fixture.configuration()
        configuration.imageTypes = ["demo", Fleet.type]
        // One device certificate reports for every test machine.
        configuration.restrictReportHostnames = false
        if stateDirectory {
            let state = fixture.directory.join("state")
            try await prepare(fixture, state)
            configuration.stateDirectory = state
        }
        // As the README sets it up: the server trusts only the root (`--client-ca-cert
        // root.cert.pem`) and has its chain in `--cert`; Chromium sends only the leaf of the
        // operator certificate it imported from the .p12 `icon pki issue` wrote, and the server
        // completes the chain from its own.
        configuration.clientCAPath = fixture.pki.root.certPath
        try await fixture.withServer(configuration) { port in
            let origin = "https://localhost:\(port)"
            let chromium = try HeadlessChromium(directory: fixture.directory.join("browser"), origin: origin, pki: fixture.pki)
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

    /// The page open on the test fleet.
    struct FleetPage: Sendable {
        let fixture: ServerFixture
        let browser: WebDriverSession
        let origin: String
        let machines: [String: HubTestConnection]
        /// The offline machine's last report (Unix seconds), as seeded.
        let offlineLastReport: Int
        /// Unix seconds before the first live report.
        let started: Int
    }

    /// The server with the inventory holding the offline machine, the connected machines
    /// reporting (the quiet one once), and the page loaded with a 2 s stale threshold.
    func withFleetPage(_ body: @Sendable (FleetPage) async throws -> Void) async throws {
        let started = Int(Date().timeIntervalSince1970)
        let lastReport = started - 3 * 3600 - 120
        try await withBrowser(prepare: { _, state in
            try await Fleet.seedOfflineMachines(stateDirectory: state, lastReport: lastReport)
        }) { fixture, port, browser, origin in
            try await Fleet.withMachines(Fleet.connected, fixture: fixture, port: port) { machines in
                machines[Fleet.quiet]?.send(.report(Report(data: Fleet.report(Fleet.quiet))))
                // The others keep reporting, as an agent does every 5 s, faster than the page's threshold.
                let reporter = Task {
                    while !Task.isCancelled {
                        for hostname in [Fleet.live, Fleet.pending, Fleet.rolledBack] {
                            machines[hostname]?.send(.report(Report(data: Fleet.report(hostname))))
                        }
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                defer { reporter.cancel() }
                try await Fleet.waitForInventory(Set(Fleet.all), fixture: fixture, port: port)
                try await browser.navigate(origin + "/?stale=2")
                try await browser.waitUntil(
                    "the live badge, the inventory and every machine",
                    script: """
                        return document.getElementById("connection").textContent === "live"
                            && document.getElementById("inventory-state").dataset.state === "on"
                            && arguments[0].every(h => document.querySelector(`section#type-kiosk tr.machine[data-hostname="${h}"]`));
                        """, [Fleet.all])
                try await body(
                    FleetPage(
                        fixture: fixture, browser: browser, origin: origin, machines: machines, offlineLastReport: lastReport,
                        started: started))
            }
        }
    }

    /// What the tests read from one machine row.
    static let rowScript = """
        const r = document.querySelector(`tr.machine[data-hostname="${arguments[0]}"]`);
        const t = r.querySelector('td.report time');
        const probe = document.createElement('span');
        probe.className = 'mark online';
        document.body.append(probe);
        const onlineColor = getComputedStyle(probe, '::before').backgroundColor;
        probe.remove();
        return {
            classes: [...r.classList].sort(), mark: r.querySelector('.mark').textContent,
            markColor: getComputedStyle(r.querySelector('.mark'), '::before').backgroundColor, onlineColor,
            onlineMarks: r.querySelectorAll('.mark.online').length,
            ago: t.querySelector('.ago').textContent, date: t.querySelector('.date').textContent, title: t.title,
            datetime: t.getAttribute('datetime'), uptime: r.querySelector('td.uptime').textContent,
            current: r.querySelector('td.current').textContent, next: r.querySelector('td.next').textContent,
            pendingTag: r.querySelector('td.next .tag.pending').offsetParent !== null,
            health: r.querySelector('td.health').textContent,
            agent: r.querySelector('td.agent').textContent, agentTitle: r.querySelector('td.agent strong').title,
            expiring: r.querySelector('td.agent .tag.expiring').offsetParent !== null
                ? r.querySelector('td.agent .tag.expiring').textContent : null,
            expiringClasses: [...r.querySelector('td.agent .tag.expiring').classList].sort(),
            expiringTitle: r.querySelector('td.agent .tag.expiring').title,
            status: r.querySelector('td.status').textContent, statusTitle: r.querySelector('td.status .clip').title,
            rollbackMentions: r.textContent.toLowerCase().split('rolled back from').length - 1,
        };
        """

    /// `2023-11-14T22:13:20.000Z`, as JavaScript's `toISOString` writes it.
    static func isoDate(_ unixSeconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }

    static func waitForStale(_ browser: WebDriverSession, _ hostname: String) async throws {
        try await browser.waitUntil(
            "\(hostname) stale",
            script: "return document.querySelector(`tr.machine[data-hostname='${arguments[0]}']`).classList.contains('state-stale');",
            [hostname])
    }

    static func waitForConfirmation(_ browser: WebDriverSession, open: Bool = true) async throws {
        try await browser.waitUntil(
            open ? "the confirmation dialog" : "the confirmation dialog to close",
            script: "return document.getElementById('confirm-dialog').open === arguments[0];", [open])
    }

    /// The confirmation's question and its confirm button.
    static func confirmation(_ browser: WebDriverSession) async throws -> [String]? {
        try await browser.execute(
            "return [document.getElementById('confirm-text').textContent, document.getElementById('confirm-ok').textContent];")
            as? [String]
    }

    /// Sets the window to `width`, checks nothing overflows sideways, and saves a screenshot of
    /// the whole page as a test artifact (checked to be a PNG of that width).
    static func checkLayout(_ browser: WebDriverSession, width: Int, screenshot name: String) async throws {
        try await browser.setWindowSize(width: width, height: 900)
        try await browser.waitUntil("a \(width) px viewport", script: "return innerWidth === arguments[0];", [width])
        let metrics = try #require(
            try await browser.execute(
                "const d = document.documentElement; return [d.scrollWidth, innerWidth, d.scrollHeight, outerHeight - innerHeight];")
                as? [Int])
        #expect(metrics[0] <= metrics[1], "horizontal overflow at \(width) px: scrollWidth \(metrics[0]), innerWidth \(metrics[1])")
        // Tall enough for the whole page (up to 4000 px), so the screenshot shows all of it.
        let tall = min(metrics[2], 4000)
        try await browser.setWindowSize(width: width, height: tall + metrics[3])
        // The resize lands asynchronously; a loaded machine can screenshot the old size.
        try await browser.waitUntil("a \(width)×\(tall) viewport", script: "return innerHeight === arguments[0];", [tall])
        let height = try #require(try await browser.execute("return innerHeight;") as? Int)
        let path = try TestArtifacts.directory("dashboard") + "/" + name
        try await browser.screenshot().write(to: URL(fileURLWithPath: path))
        let size = TestArtifacts.pngSize(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(size?.width == width && size?.height == height, "\(path) is not a \(width)×\(height) PNG: \(String(describing: size))")
        try await browser.setWindowSize(width: width, height: 900)
    }

    /// No errors or warnings in the browser console (a probe line proves the log is collected),
    /// except entries that contain every string of `allowing`.
    static func expectQuietConsole(_ browser: WebDriverSession, allowing: [String] = []) async throws {
        _ = try await browser.execute("console.log('icon-log-probe'); return null;")
        let log = try await browser.browserLog()
        #expect(log.contains { $0.message.contains("icon-log-probe") }, "the browser log was not collected: \(log)")
        let problems = log.filter { entry in
            guard entry.level == "SEVERE" || entry.level == "WARNING" else { return false }
            return allowing.isEmpty || !allowing.allSatisfy { entry.message.contains($0) }
        }
        #expect(problems.isEmpty, "browser console: \(problems.map { "\($0.level): \($0.message)" })")
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
