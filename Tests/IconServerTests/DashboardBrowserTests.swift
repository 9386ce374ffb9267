import Foundation
import IconProtocol
import IconServer
import IconTestSupport
import Testing

/// The dashboard in a real headless Chromium (Debian's package, over chromedriver), talking to
/// the server over mTLS with an operator certificate it picks without a prompt.
///
/// Fails (does not skip) when chromium, chromedriver or the NSS tools are missing, and needs
/// root for its short-lived policy file (see `HeadlessChromium`). Screenshots go to
/// `$ICON_TEST_ARTIFACTS/dashboard/` (default `.build/test-artifacts/dashboard/`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DashboardBrowserTests {
    typealias Fleet = DashboardTestFleet

    @Test("every machine the inventory knows, with its state mark, human times and the image summary")
    func wholeFleetOnLoad() async throws {
        try await withFleetPage { page in
            let browser = page.browser
            // Offline, known only from the inventory: there at once, with when it was last seen.
            let offline = try #require(
                try await browser.execute(Self.rowScript, [Fleet.offline]) as? [String: Any])
            #expect(offline["classes"] as? [String] == ["machine", "state-offline"])
            #expect(offline["mark"] as? String == "offline")
            #expect(offline["ago"] as? String == "last seen 3 h ago")
            #expect(offline["title"] as? String == "Unix time \(page.offlineLastReport)")
            #expect(offline["datetime"] as? String == Self.isoDate(page.offlineLastReport))
            #expect((offline["date"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/) != nil)
            #expect(offline["current"] as? String == "\(Fleet.new)KIOSK-\(Fleet.new)")

            // The quiet machine turns stale after the page's threshold (2 s here): no green dot.
            try await Self.waitForStale(browser, Fleet.quiet)
            let quiet = try #require(try await browser.execute(Self.rowScript, [Fleet.quiet]) as? [String: Any])
            #expect(quiet["mark"] as? String == "stale")
            #expect(quiet["onlineMarks"] as? Int == 0)
            #expect(quiet["markColor"] as? String != quiet["onlineColor"] as? String)

            let live = try #require(try await browser.execute(Self.rowScript, [Fleet.live]) as? [String: Any])
            #expect(live["classes"] as? [String] == ["machine", "state-online"])
            #expect(live["mark"] as? String == "online")
            #expect(live["uptime"] as? String == "1h 2m")
            // The agent's version: the release, the commit below it, the whole string on hover.
            #expect(live["agent"] as? String == "0.2.0commit 0123456789ab")
            #expect(live["agentTitle"] as? String == "icon \(Fleet.agentVersion)")
            // A manifest 20 days from expiry needs no word.
            #expect(live["expiring"] is NSNull, "\(live)")
            #expect(live["current"] as? String == "\(Fleet.old)KIOSK-\(Fleet.old)")
            #expect(live["pendingTag"] as? Bool == false)
            let received = (live["title"] as? String).flatMap { Int($0.replacing("Unix time ", with: "")) }
            #expect(received.map { $0 >= page.started && $0 <= Int(Date().timeIntervalSince1970) } == true, "\(live)")
            #expect(["just now", "1 s ago", "2 s ago"].contains(live["ago"] as? String ?? ""), "\(live)")

            // Reboot pending: next differs from current, highlighted.
            let pending = try #require(try await browser.execute(Self.rowScript, [Fleet.pending]) as? [String: Any])
            #expect(pending["classes"] as? [String] == ["machine", "pending", "state-online"])
            #expect(pending["pendingTag"] as? Bool == true)
            #expect(pending["next"] as? String == "\(Fleet.new)KIOSK-\(Fleet.new)reboot pending")
            // Its manifest expires within a day: an amber tag, the date on hover.
            #expect((pending["expiring"] as? String)?.hasPrefix("manifest expires in 5h 1") == true, "\(pending)")
            #expect(pending["expiringClasses"] as? [String] == ["expiring", "tag"])
            #expect((pending["expiringTitle"] as? String)?.contains("refuses it until it is signed again") == true)

            // Rolled back: the agent's status already says so, and the page does not say it again.
            let rolledBack = try #require(try await browser.execute(Self.rowScript, [Fleet.rolledBack]) as? [String: Any])
            #expect(rolledBack["classes"] as? [String] == ["machine", "rolled-back", "state-online"])
            #expect(rolledBack["status"] as? String == Fleet.rollbackStatus)
            #expect(rolledBack["statusTitle"] as? String == Fleet.rollbackStatus)
            #expect(rolledBack["rollbackMentions"] as? Int == 1)
            #expect(rolledBack["health"] as? String == "\(Fleet.old) / \(Fleet.new)rolled back")
            #expect(rolledBack["expiring"] as? String == "manifest expired")
            #expect(rolledBack["expiringClasses"] as? [String] == ["expired", "expiring", "tag"])

            // The state counts (they double as filters) and the kiosk summary.
            let counts = try await browser.execute(
                "return Object.fromEntries([...document.querySelectorAll('#state-filter .chip')].map(c => [c.dataset.state, c.querySelector('.count').textContent]));")
                as? [String: String]
            #expect(counts == ["all": "5", "online": "3", "stale": "1", "offline": "1", "pending": "1", "rolled-back": "1"])
            let summary = try await browser.execute(
                """
                return [...document.querySelectorAll('section#type-kiosk .image-row[data-timestamp]')].map(r => [
                    r.dataset.timestamp, r.querySelector('.num.running b').textContent, r.querySelector('.num.pending b').textContent,
                    r.querySelector('.num.rolled-back b').textContent, r.querySelector('.rollout .value').textContent,
                    r.querySelector('.bar .running').style.width, r.querySelector('.bar .pending').style.width]);
                """) as? [[String]]
            #expect(
                summary == [
                    ["\(Fleet.new)", "1", "1", "1", "100 %", "20%", "20%"],
                    ["\(Fleet.old)", "4", "0", "0", "100 %", "80%", "0%"],
                ])
            let heading = try await browser.execute(
                "return document.querySelector('section#type-kiosk .type-counts').textContent;") as? String
            #expect(heading == "5 machines3 online1 stale1 offline1 reboot pending1 rolled back")
            let demo = try await browser.execute(
                "return [String(document.querySelectorAll('section#type-demo tr.machine').length), document.querySelector('section#type-demo > .empty').textContent];")
                as? [String]
            #expect(demo == ["0", "No machine of this type has reported yet."])

            try await Self.checkLayout(browser, width: 1400, screenshot: "dashboard-1400.png")
            try await Self.checkLayout(browser, width: 390, screenshot: "dashboard-390.png")
            let cards = try await browser.execute(
                "return getComputedStyle(document.querySelector('tr.machine')).display;") as? String
            #expect(cards == "grid", "rows are cards at 390 px")
            try await Self.expectQuietConsole(browser)
        }
    }

    @Test("search and the state chips filter by hostname, image and state")
    func filters() async throws {
        try await withFleetPage { page in
            let browser = page.browser
            try await Self.waitForStale(browser, Fleet.quiet)
            func visible() async throws -> [String] {
                try await browser.execute(
                    "return [...document.querySelectorAll('tr.machine')].filter(r => r.offsetParent !== null).map(r => r.dataset.hostname);")
                    as? [String] ?? []
            }
            try await browser.type("#search", "PEND")
            #expect(try await visible() == [Fleet.pending])
            try await browser.clear("#search")
            try await browser.type("#search", String(Fleet.new))
            // Runs it or boots it next; the machine that marked it bad does neither.
            #expect(try await visible() == [Fleet.offline, Fleet.pending])
            try await browser.clear("#search")
            #expect(try await visible() == Fleet.all)
            let expected: [(String, [String])] = [
                ("online", [Fleet.live, Fleet.pending, Fleet.rolledBack]), ("stale", [Fleet.quiet]), ("offline", [Fleet.offline]),
                ("pending", [Fleet.pending]), ("rolled-back", [Fleet.rolledBack]), ("all", Fleet.all),
            ]
            for (state, hostnames) in expected {
                try await browser.click(#"#state-filter .chip[data-state="\#(state)"]"#)
                #expect(try await visible() == hostnames, "chip \(state)")
            }
            // Search and state together; no match says so.
            try await browser.click(#"#state-filter .chip[data-state="offline"]"#)
            try await browser.type("#search", "device")
            #expect(try await visible() == [])
            let note = try await browser.execute("return document.querySelector('section#type-kiosk > .empty').textContent;") as? String
            #expect(note == "No machine here matches the filter.")
            try await Self.expectQuietConsole(browser)
        }
    }

    @Test("a reboot asks first, naming machine and image; only a confirmed one is sent, and the audit log lists it")
    func rebootConfirmationAndAudit() async throws {
        try await withFleetPage { page in
            let browser = page.browser
            let machine = try #require(page.machines[Fleet.live])
            try await browser.click(#"tr.machine[data-hostname="\#(Fleet.live)"]"#)
            let select = #"#dialog-versions button.select[data-timestamp="\#(Fleet.new)"]"#
            try await browser.waitUntil(
                "the versions from the manifest", script: "return document.querySelectorAll('#dialog-versions button.select').length === 2;")
            let version = try await browser.execute(
                "return [...document.querySelector(arguments[0]).closest('tr').cells].slice(0, 3).map(c => c.textContent);", [select])
                as? [String]
            #expect(version == ["\(Fleet.new)KIOSK-\(Fleet.new)", "100 %", ""])

            // Select asks; Cancel sends nothing.
            try await browser.click(select)
            try await Self.waitForConfirmation(browser)
            #expect(try await Self.confirmation(browser) == [
                "Reboot \(Fleet.live) into image \(Fleet.new) (KIOSK-\(Fleet.new))?", "Reboot into \(Fleet.new)",
            ])
            try await browser.click("#confirm-cancel")
            try await Self.waitForConfirmation(browser, open: false)
            // "Reboot (same image)" asks too, naming the image the machine boots.
            try await browser.click("#reboot-button")
            try await Self.waitForConfirmation(browser)
            #expect(try await Self.confirmation(browser) == [
                "Reboot \(Fleet.live)? It boots image \(Fleet.old) (KIOSK-\(Fleet.old)).", "Reboot",
            ])
            try await browser.click("#confirm-cancel")
            try await Self.waitForConfirmation(browser, open: false)

            // Confirmed: the command goes out.
            try await browser.click(select)
            try await Self.waitForConfirmation(browser)
            try await browser.click("#confirm-ok")
            let command = await machine.waitFor(timeout: .seconds(5)) { if case .command = $0 { true } else { false } }
            guard case .command(let sent)? = command else {
                Issue.record("\(Fleet.live) received no command after confirming: \(machine.messages)")
                return
            }
            #expect(sent.target == Fleet.live)
            #expect(sent.data == CommandData(command: "reboot", timestamp: Fleet.new))
            #expect(sent.id != nil && sent.received != nil)
            // Commands arrive in order on one connection: had a cancelled one been sent, it would be here first.
            let commands = machine.messages.filter { if case .command = $0 { true } else { false } }
            #expect(commands.count == 1, "\(commands)")
            let button = try await browser.execute(
                "const b = document.querySelector(arguments[0]); return [b.textContent, String(b.disabled)];", [select]) as? [String]
            #expect(button == ["Sent", "true"])

            // The audit log lists that one command.
            _ = try await browser.execute("document.getElementById('machine-dialog').close(); return null;")
            try await browser.click("#audit-toggle")
            try await browser.waitUntil(
                "the command in the audit log", script: "return document.querySelectorAll('#audit-rows tr[data-target]').length > 0;")
            let rows = try await browser.execute(
                """
                return [...document.querySelectorAll('#audit-rows tr[data-target]')].map(r =>
                    [...r.cells].slice(1).map(c => c.textContent).concat([r.querySelector('time').title]));
                """) as? [[String]]
            let row = try #require(rows?.first)
            #expect(rows?.count == 1)
            #expect(Array(row.prefix(4)) == ["CN=Alice Operator,O=Iconograph Test", Fleet.live, "reboot into \(Fleet.new)", "delivered"])
            #expect(!row[4].isEmpty, "the hub's reason")
            let auditTime = Int(row[5].replacing("Unix time ", with: ""))
            #expect(auditTime.map { $0 >= page.started } == true, "\(row)")
            // The screenshots show every state.
            try await Self.waitForStale(browser, Fleet.quiet)
            try await Self.checkLayout(browser, width: 1400, screenshot: "audit-1400.png")
            try await Self.checkLayout(browser, width: 390, screenshot: "audit-390.png")
            try await Self.expectQuietConsole(browser)
        }
    }

    @Test("a large fleet shows 500 rows per type, Show more adds the rest, search reaches every machine")
    func largeFleetPages() async throws {
        let hostnames = (0..<520).map { "bulk-\(String(format: "%03d", $0))" }
        try await withBrowser(prepare: { _, state in
            try await Fleet.seedOfflineMachines(hostnames, stateDirectory: state, lastReport: Int(Date().timeIntervalSince1970) - 600)
        }) { _, _, browser, origin in
            try await browser.navigate(origin + "/")
            try await browser.waitUntil(
                "every machine counted",
                script: "return document.querySelector('#state-filter .chip[data-state=\"all\"] .count').textContent === '520';")
            let shown = """
                const more = document.querySelector('#type-kiosk > .more');
                return [String(document.querySelectorAll('#type-kiosk tr.machine:not([hidden])').length), more.offsetParent === null ? '' : more.textContent];
                """
            #expect(try await browser.execute(shown) as? [String] == ["500", "Show 20 more (500 of 520 shown)"])
            try await browser.click("#type-kiosk > .more")
            #expect(try await browser.execute(shown) as? [String] == ["520", ""])
            try await browser.type("#search", "bulk-519")
            let visible = try await browser.execute(
                "return [...document.querySelectorAll('tr.machine')].filter(r => r.offsetParent !== null).map(r => r.dataset.hostname);")
                as? [String]
            #expect(visible == ["bulk-519"])
            try await browser.clear("#search")
            #expect(try await browser.execute(shown) as? [String] == ["500", "Show 20 more (500 of 520 shown)"])
            try await Self.expectQuietConsole(browser)
        }
    }

    @Test("without --state-dir the page works from live reports and says the inventory is off")
    func inventoryOff() async throws {
        try await withBrowser(stateDirectory: false) { fixture, port, browser, origin in
            try await Fleet.withMachines([Fleet.live], fixture: fixture, port: port) { machines in
                let reporter = Task {
                    while !Task.isCancelled {
                        machines[Fleet.live]?.send(.report(Report(data: Fleet.report(Fleet.live))))
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                defer { reporter.cancel() }
                try await browser.navigate(origin + "/")
                try await browser.waitUntil(
                    "the inventory badge and the live machine",
                    script: """
                        return document.getElementById("inventory-state").dataset.state === "off"
                            && !!document.querySelector('section#type-kiosk tr.machine.state-online[data-hostname="device-1"]');
                        """)
                let badge = try await browser.execute("return document.getElementById('inventory-state').textContent;") as? String
                #expect(badge == "inventory off: live reports only")
                try await browser.click("#audit-toggle")
                try await browser.waitUntil(
                    "the audit note", script: "return document.getElementById('audit-note').textContent.includes('--state-dir');")
                // The 404 answers of /api are how the page learns the inventory is off; Chromium logs each.
                try await Self.expectQuietConsole(browser, allowing: ["/api/", "404"])
            }
        }
    }

    @Test("the label page draws a Code 39 barcode that zbarimg decodes and links back to the dashboard")
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
            try await browser.screenshot().write(to: URL(fileURLWithPath: try TestArtifacts.directory("dashboard") + "/label.png"))
            // Styled like the dashboard, and its link leads back there.
            let styled = try await browser.execute(
                "return [getComputedStyle(document.querySelector('header.topbar')).display, document.getElementById('back-link').href];")
                as? [String]
            #expect(styled == ["flex", origin + "/"])
            try await browser.click("#back-link")
            try await browser.waitUntil(
                "the dashboard", script: "return location.pathname === '/' && document.getElementById('connection').textContent === 'live';")
            try await Self.expectQuietConsole(browser)
        }
    }
}
