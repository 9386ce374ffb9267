import IconBoot
public import IconCore
public import IconUpdate
public import Logging

extension AgentActions {
    /// The real actions: `update` fetches with the trust core's `Fetcher` (forcing the given
    /// timestamp, if any; the fetcher records the switch in grubenv) and rewrites
    /// `<bootDir>/grub/grub.cfg`; `reboot` runs `rebootCommand`; `healthCheck` runs
    /// `healthCommand` (no shell) under `timeout`, so a hung command counts as a failure.
    ///
    /// - Parameters:
    ///   - fetcher: the fetcher settings; `forcedTimestamp` is set per update, `bootDir` to `bootDir`.
    ///   - bootDir: root of the BOOT partition.
    ///   - rebootCommand: the executable and its arguments (no shell); empty does nothing.
    ///   - healthCommand: the executable and its arguments (no shell); empty always succeeds.
    ///   - healthCommandTimeout: how long one health run may take.
    public static func live(
        fetcher: FetcherConfiguration, bootDir: String, rebootCommand: [String], healthCommand: [String] = [],
        healthCommandTimeout: Duration = .seconds(60), logger: Logger,
        runner: any ToolRunner = SubprocessToolRunner()
    ) -> AgentActions {
        AgentActions(
            update: { forced in
                var configuration = fetcher
                configuration.forcedTimestamp = forced
                configuration.bootDir = bootDir
                let result = try await Fetcher(configuration: configuration).fetch()
                _ = try BootMenuUpdater().update(bootDir: bootDir, imageDir: fetcher.imageDir)
                return result.summary
            },
            reboot: {
                guard let executable = rebootCommand.first else { return }
                try await runner.checked(ToolInvocation(executable, Array(rebootCommand.dropFirst())), logger: logger)
            },
            catchUp: {
                var configuration = fetcher
                configuration.bootDir = bootDir
                configuration.onlyNewerManifest = true
                let result = try await Fetcher(configuration: configuration).fetch()
                if result.unchanged { return nil }
                _ = try BootMenuUpdater().update(bootDir: bootDir, imageDir: fetcher.imageDir)
                return result.summary
            },
            healthCheck: {
                guard !healthCommand.isEmpty else { return true }
                let seconds = max(1, healthCommandTimeout.components.seconds)
                let invocation = ToolInvocation("timeout", ["--kill-after=5", String(seconds)] + healthCommand)
                do {
                    let output = try await runner.run(invocation, logger: logger)
                    if !output.succeeded {
                        logger.warning("health command \(healthCommand.joined(separator: " ")) exited \(output.exitCode)")
                    }
                    return output.succeeded
                } catch {
                    logger.warning("health command \(healthCommand.joined(separator: " ")) did not run: \(error)")
                    return false
                }
            })
    }
}
