/// The version of this build of Iconograph.
///
/// `icon --version` prints ``string``: the release and the git commit the binary was built from
/// (`scripts/build-release.sh` stamps the commit into ``BuildStamp``), and says so when it is a
/// debug build, which `icon module iconograph` refuses to install into an image.
public enum IconVersion {
    /// The release this tree is (the Debian package's version).
    public static let release = "0.2.0"
    /// The git commit of the build (short form), or nil when it was built without
    /// `scripts/build-release.sh`.
    public static let commit: String? = BuildStamp.commit
    #if DEBUG
        /// The build configuration: `debug` or `release`.
        public static let configuration = "debug"
    #else
        public static let configuration = "release"
    #endif

    /// `0.2.0 (commit 1a2b3c4d5e6f)`, with `, debug build` for a debug build and
    /// `commit unknown` without a stamp.
    public static let string: String = {
        var details = commit.map { "commit \($0)" } ?? "commit unknown"
        if configuration == "debug" { details += ", debug build" }
        return "\(release) (\(details))"
    }()
}
