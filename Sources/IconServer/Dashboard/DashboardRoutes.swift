import Hummingbird
import IconCore

/// `GET` and `HEAD` of the dashboard's files (`/`, `/index.html`, `/dashboard.js`, …), compiled
/// into the binary. Any client with a valid certificate may load them; what the page can do
/// is decided by `/ws/master`, which admits operators only.
struct DashboardRoutes: Sendable {
    /// Every path `DashboardAssets` answers.
    static let paths = [
        "/", "/index.html", "/dashboard.css", "/dashboard.js", "/view.js", "/rows.js", "/summary.js", "/fleet.js",
        "/manifests.js", "/dialogs.js", "/audit.js", "/format.js", "/label.html", "/code39.js",
    ]

    func register(on router: Router<ServerRequestContext>) {
        for path in Self.paths {
            guard let asset = DashboardAssets.asset(for: path) else { continue }
            let response = Self.response(body: asset.body, contentType: asset.contentType)
            router.get(RouterPath(path)) { _, _ in response.get }
            router.head(RouterPath(path)) { _, _ in response.head }
        }
    }

    /// The two prepared responses of one asset; built once, as the assets never change.
    struct Prepared: Sendable {
        let headers: HTTPFields
        let body: [UInt8]
        var get: Response { Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: body))) }
        var head: Response { Response(status: .ok, headers: headers) }
    }

    static func response(body: [UInt8], contentType: String) -> Prepared {
        let headers: HTTPFields = [
            .contentType: contentType,
            .contentLength: String(body.count),
            // The page is small and must follow server upgrades at once.
            .cacheControl: "no-cache",
            .contentSecurityPolicy: ContentSecurityPolicy.header(for: body, isHTML: contentType.hasPrefix("text/html")),
            .init("X-Content-Type-Options")!: "nosniff",
            .init("Referrer-Policy")!: "no-referrer",
        ]
        return Prepared(headers: headers, body: body)
    }
}
