/// What `scripts/build-release.sh` stamps into a release build: it builds a copy of the package
/// (`.build/release-tree`) whose copy of this file names the commit, so the tree holds `nil`.
enum BuildStamp {
    static let commit: String? = nil
}
