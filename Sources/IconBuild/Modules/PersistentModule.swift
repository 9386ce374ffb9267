/// The `persistent` stock module: mounts LABEL=PERSISTENT at /persistent when present.
public struct PersistentModule: Sendable {
    public init() {}

    /// Adds the fstab line and the mount point; repeating it changes nothing.
    public func apply(to context: ModuleContext) throws {
        try FstabMount.add(label: "PERSISTENT", mountPoint: "/persistent", to: context)
    }
}
