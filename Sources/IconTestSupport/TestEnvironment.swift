import Foundation
public import Testing

/// What this machine offers the tests, and the one way tests gate on it: Swift Testing
/// conditions that always say why a test does not run.
///
/// `swift test --skip '<suite>|...'` runs the fast set (`scripts/test.sh` lists the heavy
/// suites); the tags below mark what each heavy test needs.
public enum TestEnvironment {
    /// Whether this process runs as root (mounts, loop devices, chroot, namespaces).
    public static var isRoot: Bool { geteuid() == 0 }

    /// Whether the image and QEMU tests were switched off with `ICON_SKIP_IMAGE_TESTS=1`.
    public static var imageTestsSkipped: Bool {
        ProcessInfo.processInfo.environment["ICON_SKIP_IMAGE_TESTS"] == "1"
    }

    /// Whether `tool` is an executable in PATH or the sbin directories; an absolute path is
    /// checked as it is.
    public static func hasExecutable(_ tool: String) -> Bool {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    /// The `icon` executable built beside this test bundle (`swift build --build-tests`), if any.
    public static let iconBinary: String? = {
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = (bundle as NSString).deletingLastPathComponent + "/icon"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// The release `icon` an image needs: `ICON_RELEASE_BINARY`, else the package's dist/icon
    /// when `scripts/build-release.sh` has made it.
    public static let releaseBinary: String? = {
        if let path = ProcessInfo.processInfo.environment["ICON_RELEASE_BINARY"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            let build = bundle.range(of: "/.build/")
        else { return nil }
        let path = String(bundle[..<build.lowerBound]) + "/dist/icon"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
}

extension Trait where Self == ConditionTrait {
    /// Runs only as root; `why` says what needs it.
    public static func requiresRoot(_ why: String) -> Self {
        .enabled(if: TestEnvironment.isRoot, "needs root: \(why)")
    }

    /// Runs only when every one of `tools` is installed; the reason names the package to install.
    public static func requiresExecutables(_ tools: [String], package: String) -> Self {
        .enabled(
            if: tools.allSatisfy(TestEnvironment.hasExecutable),
            "needs \(tools.joined(separator: ", ")) (apt-get install \(package))")
    }

    /// Runs only when `tool` is installed; the reason names the package to install.
    public static func requiresExecutable(_ tool: String, package: String) -> Self {
        requiresExecutables([tool], package: package)
    }

    /// Runs only when the `icon` binary was built beside the tests.
    public static var requiresIconBinary: Self {
        .enabled(if: TestEnvironment.iconBinary != nil, "needs the icon binary built beside the tests (swift build --build-tests)")
    }

    /// Runs only when the release binary is there (``TestEnvironment/releaseBinary``).
    public static var requiresReleaseBinary: Self {
        .enabled(
            if: TestEnvironment.releaseBinary != nil,
            "needs the release icon binary: run scripts/build-release.sh (dist/icon) or set ICON_RELEASE_BINARY")
    }

    /// The real image builds and QEMU boots: root, and not switched off with `ICON_SKIP_IMAGE_TESTS=1`.
    public static var imageTests: Self {
        .enabled(
            if: TestEnvironment.isRoot && !TestEnvironment.imageTestsSkipped,
            "needs root (mounts, chroot, loop devices) and ICON_SKIP_IMAGE_TESTS unset")
    }
}

extension Tag {
    /// Builds a real image (mmdebstrap, mksquashfs, xorriso): minutes, network to the Debian mirror.
    @Tag public static var imageBuild: Self
    /// Boots a machine in QEMU under software emulation: minutes.
    @Tag public static var qemu: Self
    /// Attaches loop devices and writes partitions.
    @Tag public static var loopDevices: Self
    /// Runs the real `icon` binary as a separate process.
    @Tag public static var iconProcess: Self
}
