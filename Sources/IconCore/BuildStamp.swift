/// What `scripts/build-release.sh` stamps into a release build; it rewrites this file for the
/// build and restores it afterwards, so the tree always holds `nil`.
enum BuildStamp {
    static let commit: String? = nil
}
