public import IconCore

/// Invocations of `mmdebstrap`, the bootstrapper the builder uses.
///
/// Measured on this project's machine (bookworm, minbase plus linux-image-amd64, live-boot and
/// systemd-sysv, same mirror): mmdebstrap 76 s and a 666 MB root, debootstrap 90 s and
/// 773 MB. mmdebstrap also resolves all packages in one apt run, takes several sources
/// (release, updates, security) at once and can write a tarball, which the stage cache keeps.
public enum Mmdebstrap {
    /// Bootstraps `target` (a directory, or a `.tar` file to write a tarball) from `sources`.
    ///
    /// - Parameters:
    ///   - sources: one-line apt source entries (`deb URI suite component...`); the first one's
    ///     suite is the release.
    ///   - packages: packages to install besides the minbase set.
    ///   - debCache: a host directory of downloaded `.deb` files shared by builds: synced into
    ///     the root's apt archive before anything downloads, and the new downloads synced back
    ///     (mmdebstrap's `sync-in`/`sync-out` hooks). The image itself keeps no `.deb`.
    ///   - environment: e.g. `SOURCE_DATE_EPOCH` for reproducible output.
    public static func invocation(
        release: String, arch: String, target: String, sources: [String], packages: [String],
        variant: String = "minbase", debCache: String? = nil, environment: [String: String] = [:]
    ) -> ToolInvocation {
        var arguments = ["--variant=\(variant)", "--architectures=\(arch)", "--mode=root", "--format=auto"]
        if !packages.isEmpty {
            arguments.append("--include=" + packages.joined(separator: ","))
        }
        // No translated package descriptions: nothing in a server image reads them.
        arguments.append("--aptopt=Acquire::Languages \"none\"")
        if let debCache {
            let quoted = ShellQuote.quote(debCache)
            arguments += [
                // Keep the essential .debs in the archive so sync-out sees them too.
                "--skip=essential/unlink",
                "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
                "--setup-hook=sync-in \(quoted) /var/cache/apt/archives/",
                "--customize-hook=sync-out /var/cache/apt/archives \(quoted)",
            ]
        }
        arguments += [release, target]
        arguments += sources
        return ToolInvocation("mmdebstrap", arguments, environment: environment)
    }
}

/// Invocations of `debootstrap`, kept for comparison and for hosts without mmdebstrap.
public enum Debootstrap {
    /// Bootstraps `target` with the minbase variant from one `mirror`.
    public static func invocation(
        release: String, arch: String, target: String, mirror: String, components: [String], packages: [String]
    ) -> ToolInvocation {
        var arguments = ["--variant=minbase", "--arch=\(arch)", "--components=" + components.joined(separator: ",")]
        if !packages.isEmpty {
            arguments.append("--include=" + packages.joined(separator: ","))
        }
        arguments += [release, target, mirror]
        return ToolInvocation("debootstrap", arguments)
    }
}
