import Hummingbird
import IconCore
import NIOPosix

/// `GET` and `HEAD /image/<type>/<file>` (the published images and manifests), and
/// `/static/<name>/<file>` for `--static-path`: files with Range support, behind `ImagePathResolver`.
struct ImageRoutes: Sendable {
    let resolver: ImagePathResolver
    let chunkSize: Int
    let contentType: @Sendable (String) -> String
    /// `--static-path` files: `Content-Security-Policy: sandbox`, so an HTML file there runs as
    /// a page of no origin and cannot script the dashboard's (whose operator endpoints it could use).
    var sandboxed = false

    init(configuration: ImageServerConfiguration) {
        resolver = ImagePathResolver(imagePath: configuration.imagePath, imageTypes: configuration.imageTypes)
        chunkSize = configuration.chunkSize
        contentType = Self.contentType(for:)
    }

    /// The `/static/<name>/<file>` routes of `--static-path`.
    init(staticPaths: [String: String], chunkSize: Int) {
        resolver = ImagePathResolver(prefix: "static", directories: staticPaths)
        self.chunkSize = chunkSize
        contentType = Self.staticContentType(for:)
        sandboxed = true
    }

    func register(on router: Router<ServerRequestContext>) {
        // `**` so that every path below the prefix reaches `resolve`, which checks the raw path itself.
        router.get("/\(resolver.prefix)/**") { request, context in
            try await respond(to: request, context: context, includeBody: true)
        }
        router.head("/\(resolver.prefix)/**") { request, context in
            try await respond(to: request, context: context, includeBody: false)
        }
    }

    func respond(to request: Request, context: ServerRequestContext, includeBody: Bool) async throws -> Response {
        guard let file = resolver.resolve(rawPath: request.uri.path) else {
            throw IconError(.notFound, "no file at \(request.uri.path)")
        }
        var headers: HTTPFields = [
            .contentType: contentType(file.fileName),
            .acceptRanges: "bytes",
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        if sandboxed { headers[.contentSecurityPolicy] = "sandbox" }
        if file.fileName == "manifest.json" {
            // Devices poll the manifest; a cache must always revalidate it.
            headers[.cacheControl] = "no-cache"
        }
        let status: HTTPResponse.Status
        let range: ClosedRange<Int>?
        switch ByteRange.parse(request.headers[.range], size: file.size) {
        case .whole:
            status = .ok
            range = file.size > 0 ? 0...(file.size - 1) : nil
        case .partial(let bytes):
            status = .partialContent
            range = bytes
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(file.size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(file.size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[.contentLength] = String(range?.count ?? 0)
        guard includeBody, let range else {
            return Response(status: status, headers: headers)
        }
        let path = file.realPath
        let opened: ReadOnlyFile
        do {
            opened = try await NIOThreadPool.singleton.runIfActive { try ReadOnlyFile(path: path) }
        } catch {
            // Gone since it was resolved: the client is told what the server log says in full.
            throw IconError(.notFound, "no file at \(request.uri.path)", cause: error)
        }
        let body = FileResponseBody.make(file: opened, range: range, chunkSize: chunkSize, channel: context.channel)
        return Response(status: status, headers: headers, body: body)
    }

    /// The Content-Type for a file name, by extension.
    static func contentType(for name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "iso": return "application/x-iso9660-image"
        case "json", "unsigned": return "application/json"
        default: return "application/octet-stream"
        }
    }

    /// The Content-Type of a static file, by extension; unknown ones are served as bytes, which
    /// browsers do not render (with `nosniff`).
    static func staticContentType(for name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "txt", "log", "cfg", "conf": return "text/plain; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "ico": return "image/x-icon"
        case "pdf": return "application/pdf"
        default: return contentType(for: name)
        }
    }
}
