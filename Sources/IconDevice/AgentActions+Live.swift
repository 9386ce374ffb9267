import IconBoot
import IconCore
import Logging

extension AgentActions {
    /// The real actions: `update` fetches with the trust core's `Fetcher` (forcing the given
    /// timestamp, if any) and rewrites `<bootDir>/grub/grub.cfg`; `reboot` runs `rebootCommand`.
    ///
    /// - Parameters:
    ///   - fetcher: the fetcher settings; `forcedTimestamp` is set per update.
    ///   - bootDir: root of the BOOT partition.
    ///   - rebootCommand: the executable and its arguments (no shell); empty does nothing.
    public static func live(
        fetcher: FetcherConfiguration, bootDir: String, rebootCommand: [String], logger: Logger,
        runner: any ToolRunner = SubprocessToolRunner()
    ) -> AgentActions {
        AgentActions(
            update: { forced in
                var configuration = fetcher
                configuration.forcedTimestamp = forced
                let result = try await Fetcher(configuration: configuration).fetch()
                _ = try BootMenuUpdater().update(bootDir: bootDir, imageDir: fetcher.imageDir)
                return result.summary
            },
            reboot: {
                guard let executable = rebootCommand.first else { return }
                try await runner.checked(ToolInvocation(executable, Array(rebootCommand.dropFirst())), logger: logger)
            })
    }
}
