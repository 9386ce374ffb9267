/// The fleet dashboard's files, compiled into the binary so the server needs no files on disk
/// and loads nothing from other hosts.
public enum DashboardAssets {
    /// The body and content type for a request path, or nil when it is not a dashboard file.
    public static func asset(for path: String) -> (body: [UInt8], contentType: String)? {
        switch path {
        case "/", "/index.html": (PackageResources.index_html, "text/html; charset=utf-8")
        case "/dashboard.css": (PackageResources.dashboard_css, "text/css; charset=utf-8")
        case "/dashboard.js": (PackageResources.dashboard_js, "text/javascript; charset=utf-8")
        case "/view.js": (PackageResources.view_js, "text/javascript; charset=utf-8")
        case "/rows.js": (PackageResources.rows_js, "text/javascript; charset=utf-8")
        case "/summary.js": (PackageResources.summary_js, "text/javascript; charset=utf-8")
        case "/fleet.js": (PackageResources.fleet_js, "text/javascript; charset=utf-8")
        case "/manifests.js": (PackageResources.manifests_js, "text/javascript; charset=utf-8")
        case "/dialogs.js": (PackageResources.dialogs_js, "text/javascript; charset=utf-8")
        case "/audit.js": (PackageResources.audit_js, "text/javascript; charset=utf-8")
        case "/format.js": (PackageResources.format_js, "text/javascript; charset=utf-8")
        case "/label.html": (PackageResources.label_html, "text/html; charset=utf-8")
        case "/code39.js": (PackageResources.code39_js, "text/javascript; charset=utf-8")
        default: nil
        }
    }
}
