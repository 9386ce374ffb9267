public import IconCore

extension IconError.Code {
    /// The user interrupted a command (Ctrl-C or SIGTERM) and it stopped after cleaning up.
    public static let interrupted: IconError.Code = "interrupted"
}
