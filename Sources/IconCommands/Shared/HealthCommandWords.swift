import IconCore

/// `--health-command PATH` and its `--health-arg WORD`s as one argument vector, as
/// `icon agent` and `icon module iconograph` both take them; empty without a command.
///
/// - Throws: `.invalidArgument` for `--health-arg` without `--health-command`.
func healthCommandWords(command: String?, arguments: [String]) throws -> [String] {
    guard let command else {
        guard arguments.isEmpty else { throw IconError(.invalidArgument, "--health-arg needs --health-command") }
        return []
    }
    return [command] + arguments
}
