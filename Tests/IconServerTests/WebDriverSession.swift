import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1

/// A failure talking to chromedriver, with the command and the driver's answer.
struct WebDriverError: Error, CustomStringConvertible {
    let description: String
}

/// A minimal W3C WebDriver client for one chromedriver session on loopback: only the commands
/// the dashboard tests use (navigate, find, click, type, resize, run a script, screenshot, browser log).
struct WebDriverSession: Sendable {
    let client: HTTPClient
    let base: String
    let id: String

    /// Opens a session; `capabilities` is the `alwaysMatch` object.
    static func open(client: HTTPClient, driverPort: Int, capabilities: [String: Any]) async throws -> WebDriverSession {
        let base = "http://127.0.0.1:\(driverPort)"
        let value = try await command(client, "POST", base + "/session", ["capabilities": ["alwaysMatch": capabilities]])
        guard let object = value as? [String: Any], let id = object["sessionId"] as? String else {
            throw WebDriverError(description: "chromedriver answered POST /session without a sessionId: \(String(describing: value))")
        }
        return WebDriverSession(client: client, base: base, id: id)
    }

    func close() async {
        _ = try? await Self.command(client, "DELETE", "\(base)/session/\(id)", nil)
    }

    func navigate(_ url: String) async throws {
        do {
            _ = try await call("POST", "/url", ["url": url])
        } catch let error as WebDriverError where error.description.contains("timeout") {
            throw WebDriverError(
                description: "\(error.description) (a page over mTLS that never loads usually waits for a client "
                    + "certificate prompt: is the AutoSelectCertificateForUrls policy in /etc/chromium/policies/managed/ ours?)")
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its JSON result.
    func execute(_ script: String, _ args: [Any] = []) async throws -> Any? {
        try await call("POST", "/execute/sync", ["script": script, "args": args])
    }

    /// The first element matching a CSS selector; throws when there is none.
    func element(_ selector: String) async throws -> String {
        let value = try await call("POST", "/element", ["using": "css selector", "value": selector])
        guard let object = value as? [String: Any],
            let id = object["element-6066-11e4-a52e-4f735466cecf"] as? String
        else { throw WebDriverError(description: "no element id for \(selector): \(String(describing: value))") }
        return id
    }

    /// Clicks like a user (real pointer events at the element's centre).
    func click(_ selector: String) async throws {
        let element = try await element(selector)
        _ = try await call("POST", "/element/\(element)/click", [:])
    }

    /// Types `text` into the first element matching a CSS selector, as keystrokes.
    func type(_ selector: String, _ text: String) async throws {
        let element = try await element(selector)
        _ = try await call("POST", "/element/\(element)/value", ["text": text])
    }

    /// Empties an input (WebDriver's Element Clear).
    func clear(_ selector: String) async throws {
        let element = try await element(selector)
        _ = try await call("POST", "/element/\(element)/clear", [:])
    }

    /// Resizes the browser window; headless Chromium makes the viewport exactly this size.
    func setWindowSize(width: Int, height: Int) async throws {
        _ = try await call("POST", "/window/rect", ["width": width, "height": height])
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        guard let text = try await call("GET", "/screenshot", nil) as? String, let data = Data(base64Encoded: text) else {
            throw WebDriverError(description: "GET /screenshot returned no base64 PNG")
        }
        return data
    }

    /// Browser console entries since the last call (chromedriver's `goog:loggingPrefs` log).
    func browserLog() async throws -> [(level: String, message: String)] {
        let value = try await call("POST", "/se/log", ["type": "browser"])
        return (value as? [[String: Any]] ?? []).map {
            (level: $0["level"] as? String ?? "?", message: $0["message"] as? String ?? "")
        }
    }

    /// Polls `script` (which returns a boolean) until it is true or `timeout` passes.
    func waitUntil(_ what: String, timeout: Duration = .seconds(10), script: String, _ args: [Any] = []) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await execute(script, args) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let page = try? await execute(
            "return location.href + ' | ' + document.title + ' | ' + (document.body ? document.body.innerText.slice(0, 300) : '');")
        throw WebDriverError(description: "timed out after \(timeout) waiting for \(what); page: \(page ?? "?")")
    }

    private func call(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        try await Self.command(client, method, "\(base)/session/\(id)\(path)", body)
    }

    /// Sends one WebDriver command and returns its `value`, throwing the driver's error message.
    static func command(_ client: HTTPClient, _ method: String, _ url: String, _ body: [String: Any]?) async throws -> Any? {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = Data(buffer: try await response.body.collect(upTo: 32 << 20))
        let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]
        let value = json?["value"]
        guard response.status == .ok else {
            let message = (value as? [String: Any])?["message"] as? String ?? String(decoding: bytes, as: UTF8.self)
            throw WebDriverError(description: "\(method) \(url): HTTP \(response.status.code): \(message)")
        }
        return value is NSNull ? nil : value
    }
}
