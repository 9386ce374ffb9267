public import IconCore

/// Invocations run inside the image root with `chroot`.
public enum Chroot {
    /// Environment every command in the build root gets: no questions, a plain locale.
    public static let environment = [
        "DEBIAN_FRONTEND": "noninteractive",
        "DEBCONF_NONINTERACTIVE_SEEN": "true",
        "LC_ALL": "C.UTF-8",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]

    /// Runs `command` with `arguments` inside `root`.
    public static func invocation(root: String, _ command: String, _ arguments: [String] = []) -> ToolInvocation {
        ToolInvocation("chroot", [root, command] + arguments, environment: environment)
    }

    /// Runs a shell `script` inside `root`.
    public static func shell(root: String, _ script: String) -> ToolInvocation {
        invocation(root: root, "/bin/sh", ["-c", script])
    }

    /// `apt-get` with the options a build wants, inside `root`.
    public static func aptGet(root: String, _ arguments: [String]) -> ToolInvocation {
        invocation(
            root: root, "apt-get",
            ["--assume-yes", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef",
             "-o", "Dpkg::Options::=--force-confold"] + arguments)
    }
}
