/// A fallback GRUB made by itself: the pending image `failed` ran out of boot tries without
/// being marked good, and the machine came back on `running` (`last_rollback` in reports).
public struct RollbackReport: Codable, Sendable, Hashable {
    /// Timestamp of the image that did not prove itself.
    public var failed: Int
    /// Timestamp of the image the machine runs instead.
    public var running: Int?
    /// Why, for people: "image T did not prove itself within N boot tries".
    public var reason: String
    /// When the agent noticed it, in Unix seconds.
    public var at: Int

    public init(failed: Int, running: Int?, reason: String, at: Int) {
        self.failed = failed
        self.running = running
        self.reason = reason
        self.at = at
    }
}
