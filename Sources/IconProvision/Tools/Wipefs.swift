public import IconCore

/// Invocations of `wipefs`.
public enum Wipefs {
    /// Erases every filesystem, RAID and partition-table signature on `device`, so an old
    /// ISO 9660 or GPT backup header cannot confuse `blkid` or firmware later.
    public static func wipeAll(device: String) -> ToolInvocation {
        ToolInvocation("wipefs", ["--all", "--quiet", device])
    }
}
