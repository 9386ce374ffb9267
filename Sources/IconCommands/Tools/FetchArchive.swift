public import ArgumentParser
import Foundation
import IconCore
import IconMachineTools
import IconTLS
import IconUpdate

/// `icon fetch-archive`: streams a tar archive over HTTPS into a directory.
public struct FetchArchive: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fetch-archive",
        abstract: "Download a tar archive (plain or gzip) over HTTPS and unpack it into a directory.",
        discussion: """
            The archive is streamed: nothing is stored but the unpacked files. Gzip is recognised by its \
            magic bytes and decoded by /bin/gzip -dc. Entries that could land outside --dest-dir are \
            refused and stop the unpacking with an error: absolute paths, '..' components, symlinks \
            pointing outside, hard links to anything but an earlier entry, and device nodes or FIFOs. \
            No symlink is followed while unpacking. Modes are kept without setuid/setgid/sticky bits; \
            owners are not applied. Bounded: more than --max-bytes of unpacked tar (after gzip, headers \
            included) or less than 64 KiB arriving in --stall-timeout seconds stops it with an error; \
            what was unpacked before stays.

            Example:
              icon fetch-archive --url https://config.example.com/site.tar.gz \\
                --dest-dir /etc/site --https-ca-cert ca.pem \\
                --https-client-cert client.pem --https-client-key client.key.pem
            """)

    @Option(help: ArgumentHelp("URL of the archive.", valueName: "url"))
    var url: String
    @Option(help: ArgumentHelp("Directory to unpack into (created if missing).", valueName: "dir"))
    var destDir: String
    @OptionGroup var https: HTTPSClientOptions
    @Option(help: ArgumentHelp(
        "Most bytes the archive may unpack to (the tar stream after gzip, headers included). K, M, G, T suffixes.",
        valueName: "bytes"))
    var maxBytes = ByteCount(bytes: ArchiveFetcher.defaultMaxBytes)
    @Option(help: ArgumentHelp(
        "Seconds the download may go with less than 64 KiB arriving before it is cut.", valueName: "seconds"))
    var stallTimeout: Int = Int(FetcherConfiguration.defaultStallTimeout.components.seconds)

    public init() {}

    public func run() async throws {
        guard stallTimeout > 0 else {
            throw IconError(.invalidArgument, "--stall-timeout must be at least 1 second, got \(stallTimeout)")
        }
        let fetcher = ArchiveFetcher(
            url: url, destination: destDir,
            tls: ClientTLSFiles(caCertPath: https.httpsCACert, clientCertPath: https.httpsClientCert, clientKeyPath: https.httpsClientKey),
            maxBytes: maxBytes.bytes, stall: StallGuard(window: .seconds(stallTimeout)))
        let summary = try await fetcher.run()
        FileHandle.standardOutput.write(Data(
            "unpacked \(summary.files) files, \(summary.directories) directories, \(summary.symlinks + summary.hardlinks) links (\(summary.bytes) bytes) into \(destDir)\n".utf8))
    }
}
