import Foundation
import IconCore

/// The `Content-Security-Policy` of the dashboard's pages: only this server's scripts, styles
/// and WebSocket, nothing from other hosts, no framing.
///
/// Inline `<script>` and `<style>` blocks and `on…="…"` attributes of a page are allowed by the
/// SHA-256 of their exact text (CSP level 3), computed from the page itself, so the policy
/// stays strict without `'unsafe-inline'` and follows edits of the page.
enum ContentSecurityPolicy {
    /// The directives every response of the dashboard carries.
    static let base = "default-src 'self'; connect-src 'self' wss:; img-src 'self' data:; object-src 'none'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The policy for a page (HTML) or any other asset (`base`).
    static func header(for body: [UInt8], isHTML: Bool) -> String {
        guard isHTML else { return base }
        let html = String(decoding: body, as: UTF8.self)
        let scripts = inlineBlocks(in: html, tag: "script").map(source)
        let styles = inlineBlocks(in: html, tag: "style").map(source)
        let handlers = eventHandlerAttributes(in: html).map(source)
        var scriptSources = ["'self'"] + scripts
        if !handlers.isEmpty { scriptSources += ["'unsafe-hashes'"] + handlers }
        return base + "; script-src " + scriptSources.joined(separator: " ")
            + "; style-src " + (["'self'"] + styles).joined(separator: " ")
    }

    /// `'sha256-<base64>'` of a text.
    static func source(_ text: String) -> String {
        let hex = FileHasher.sha256Hex(of: Array(text.utf8))
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return "'sha256-\(Data(bytes).base64EncodedString())'"
    }

    /// The contents of `<tag>…</tag>` elements without attributes (those with `src` are files).
    static func inlineBlocks(in html: String, tag: String) -> [String] {
        var blocks: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest[open.upperBound...].range(of: "</\(tag)>") {
            blocks.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return blocks
    }

    /// The values of `onclick="…"` and other event handler attributes.
    static func eventHandlerAttributes(in html: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"\son[a-z]+="([^"]*)""#) else { return [] }
        let range = NSRange(html.startIndex..., in: html)
        return regex.matches(in: html, range: range).compactMap { match in
            Range(match.range(at: 1), in: html).map { String(html[$0]) }
        }
    }
}
