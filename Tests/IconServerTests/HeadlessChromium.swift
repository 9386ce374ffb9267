import AsyncHTTPClient
import Foundation
import IconTestSupport

/// Headless Chromium under chromedriver that presents an operator certificate without a prompt.
///
/// Chromium on Linux reads client certificates and extra trust anchors from the NSS database
/// `$HOME/.pki/nssdb`, so a temporary HOME gets a private database holding the test root
/// (trusted for TLS servers) and the operator's key and certificate. Choosing that certificate
/// without a dialog needs the `AutoSelectCertificateForUrls` policy, and Linux Chromium only
/// reads policies from `/etc/chromium/policies/managed/`; the test writes one uniquely named
/// file there and always removes it in `stop()`. When several files set the policy, Chromium
/// takes one of them, so every run writes the same rule (its host on any port, e.g.
/// `https://localhost`): browser tests running at once (other checkouts) then agree.
final class HeadlessChromium: Sendable {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let policyDirectory = "/etc/chromium/policies/managed"

    let home: String
    let policyPath: String
    let driver: Process
    let driverPort: Int

    /// Prepares the profile and policy for `origin` (e.g. `https://localhost:8443`) and starts chromedriver.
    init(directory: String, origin: String, pki: TestPKI) throws {
        for tool in [Self.chromium, Self.chromedriver, "/usr/bin/certutil", "/usr/bin/pk12util"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw WebDriverError(
                description: "\(tool) is missing: run scripts/setup.sh (chromium, chromium-driver, libnss3-tools)")
        }
        home = directory + "/home"
        try Self.installCertificates(home: home, directory: directory, pki: pki)

        policyPath = "\(Self.policyDirectory)/iconograph-test-\(UUID().uuidString).json"
        // A pattern without a port matches every port of the host.
        let pattern = origin.replacing(/:\d+$/, with: "")
        let rule = #"{"pattern":"\#(pattern)","filter":{}}"#
        let policy = try JSONSerialization.data(withJSONObject: ["AutoSelectCertificateForUrls": [rule]])
        do {
            try FileManager.default.createDirectory(atPath: Self.policyDirectory, withIntermediateDirectories: true)
            try policy.write(to: URL(fileURLWithPath: policyPath))
        } catch {
            throw WebDriverError(description: "cannot write the test policy \(policyPath) (needs root): \(error)")
        }

        driverPort = Int.random(in: 20_000...60_000)
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: Self.chromedriver)
        driver.arguments = ["--port=\(driverPort)", "--allowed-ips=127.0.0.1", "--log-path=\(directory)/chromedriver.log"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home
        driver.environment = environment
        driver.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        driver.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do {
            try driver.run()
        } catch {
            try? FileManager.default.removeItem(atPath: policyPath)
            throw error
        }
    }

    /// The browser's certificates, all in one place, set up exactly as the README tells an
    /// operator: `icon pki issue --role operator` (the built binary, on the test CA's directory:
    /// TestPKI writes the `icon pki init` layout) writes `alice.p12` and `alice.p12.password`, and
    /// the .p12 is imported into a new NSS database (Chromium's, in `home`) with that password.
    /// The database also trusts the test root for TLS servers.
    static func installCertificates(home: String, directory: String, pki: TestPKI) throws {
        guard let icon = TestEnvironment.iconBinary else {
            throw WebDriverError(description: "the icon executable is not built beside the test bundle (swift build)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let alice = directory + "/alice"
        try run(icon, ["pki", "issue", "--ca-dir", pki.directory, "--role", "operator", "--name", "Alice Operator", "--out", alice])
        let nss = "sql:" + home + "/.pki/nssdb"
        try FileManager.default.createDirectory(atPath: home + "/.pki/nssdb", withIntermediateDirectories: true)
        try run("/usr/bin/certutil", ["-N", "-d", nss, "--empty-password"])
        try run("/usr/bin/certutil", ["-A", "-d", nss, "-n", "icon-test-root", "-t", "C,,", "-i", pki.root.certPath])
        try run("/usr/bin/pk12util", ["-i", alice + ".p12", "-d", nss, "-w", alice + ".p12.password", "-K", ""])
    }

    /// Opens a WebDriver session once chromedriver answers.
    func session(client: HTTPClient) async throws -> WebDriverSession {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                _ = try await WebDriverSession.command(client, "GET", "http://127.0.0.1:\(driverPort)/status", nil)
                break
            } catch {
                guard ContinuousClock.now < deadline, driver.isRunning else {
                    throw WebDriverError(description: "chromedriver did not start on port \(driverPort): \(error)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let capabilities: [String: Any] = [
            "browserName": "chrome",
            // A page that never loads (say, a client certificate prompt) fails in 20 s, with chromedriver's reason.
            "timeouts": ["pageLoad": 20_000, "script": 10_000],
            "goog:loggingPrefs": ["browser": "ALL"],
            "goog:chromeOptions": [
                "binary": Self.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1200,900", "--user-data-dir=\(home)/profile", "--no-first-run",
                ],
            ],
        ]
        return try await WebDriverSession.open(client: client, driverPort: driverPort, capabilities: capabilities)
    }

    /// Stops chromedriver (which ends its browsers) and removes the policy file.
    func stop() {
        try? FileManager.default.removeItem(atPath: policyPath)
        if driver.isRunning {
            // chromedriver ignores SIGTERM; its sessions are closed by now, so nothing is lost.
            kill(driver.processIdentifier, SIGKILL)
            driver.waitUntilExit()
        }
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        // Never wait for a password prompt on the test's terminal.
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw WebDriverError(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
