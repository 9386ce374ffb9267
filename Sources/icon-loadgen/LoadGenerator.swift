import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// `icon-loadgen`: thousands of simulated machines on `/ws/slave` over mTLS, for
/// `benchmarks/fleet-load.sh`. Prints `key=value` lines the script turns into a table.
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icon-loadgen",
        abstract: "Simulate a fleet of machines reporting to `icon server` and time a new_manifest push.",
        discussion: """
            Opens --count WebSockets to wss://HOST:PORT/ws/slave with one client certificate, each \
            reporting every --interval seconds. Once all are connected it waits --settle seconds \
            (sampling the server's CPU over that time when --server-pid is given), then renames \
            --manifest-source to --manifest-dir/manifest.json and measures, per machine, the time \
            from the rename to the receipt of new_manifest.

            Example:
              icon-loadgen --port 8443 --cert dev.pem --key dev.key --ca ca.pem --count 10000 \\
                --manifest-source /srv/images/.m.json --manifest-dir /srv/images/bench --server-pid 1234
            """)

    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "TLS server name (must match the server certificate).") var serverName = "localhost"
    @Option(help: ArgumentHelp("Client certificate (PEM).", valueName: "file")) var cert: String
    @Option(help: ArgumentHelp("Client private key (PEM).", valueName: "file")) var key: String
    @Option(help: ArgumentHelp("CA certificate that issued the server's certificate (PEM).", valueName: "file")) var ca: String
    @Option(help: "Number of simulated machines.") var count = 10_000
    @Option(help: "Seconds between two reports of one machine.") var interval = 5
    @Option(help: "Image type the machines report.") var imageType = "bench"
    @Option(help: "Connections opened at once.") var batch = 200
    @Option(help: "Local 127.0.0.x source addresses to spread connections over (for short ephemeral port ranges).")
    var sourceAddresses = 1
    @Option(help: "Seconds to hold the full fleet before the manifest push.") var settle = 12
    @Option(help: "Seconds to wait for every machine to be connected.") var connectTimeout = 120
    @Option(help: ArgumentHelp("Manifest file renamed into --manifest-dir to trigger the push.", valueName: "file"))
    var manifestSource: String?
    @Option(help: ArgumentHelp("Watched image-type directory that receives manifest.json.", valueName: "dir"))
    var manifestDir: String?
    @Option(help: "Seconds to wait for new_manifest deliveries.") var deliveryTimeout = 10
    @Option(help: "PID of the server, to sample its CPU time during --settle.") var serverPid: Int?

    func run() async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        // One context for every connection: a context per socket would cost the generator gigabytes.
        let sslContext = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let statistics = LoadStatistics()
        let started = ContinuousClock.now

        for first in stride(from: 0, to: count, by: batch) {
            let futures = (first..<min(count, first + batch)).map { index in
                connect(index: index, group: group, sslContext: sslContext, statistics: statistics)
            }
            for future in futures {
                do { _ = try await future.get() } catch { statistics.failed("connect: \(error)") }
            }
            // Let handshakes catch up so the server's accept queue never overflows.
            while first + batch - statistics.everConnected - statistics.failures.count > batch * 2 {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let deadline = ContinuousClock.now + .seconds(connectTimeout)
        while statistics.open + statistics.failures.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        print("connected=\(statistics.open)")
        print("ever_connected=\(statistics.everConnected)")
        print("connect_seconds=\(String(format: "%.1f", (ContinuousClock.now - started).milliseconds / 1000))")
        print("connect_failures=\(statistics.failures.count)")
        if let first = statistics.failures.first { print("first_failure=\(first)") }

        let cpuBefore = serverPid.flatMap(Self.cpuSeconds)
        let settleStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(settle))
        if let before = cpuBefore, let pid = serverPid, let after = Self.cpuSeconds(pid) {
            let wall = (ContinuousClock.now - settleStart).milliseconds / 1000
            print("server_cpu_percent=\(String(format: "%.1f", (after - before) / wall * 100))")
        }

        if let manifestSource, let manifestDir {
            statistics.startManifestClock()
            guard rename(manifestSource, manifestDir + "/manifest.json") == 0 else {
                throw LoadGenError("cannot rename \(manifestSource) to \(manifestDir)/manifest.json: errno \(errno)")
            }
            let target = statistics.open
            let until = ContinuousClock.now + .seconds(deliveryTimeout)
            while statistics.deliveries.count < target, ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(20))
            }
            let times = statistics.deliveries.map(\.milliseconds).sorted()
            print("manifest_targets=\(target)")
            print("manifest_received=\(times.count)")
            if !times.isEmpty {
                let pick = { (q: Double) in times[min(times.count - 1, Int((Double(times.count) * q).rounded(.up)) - 1)] }
                print("manifest_p50_ms=\(String(format: "%.0f", pick(0.5)))")
                print("manifest_p99_ms=\(String(format: "%.0f", pick(0.99)))")
                print("manifest_max_ms=\(String(format: "%.0f", times.last ?? 0))")
            }
        }
        print("still_open=\(statistics.open)")
        try await group.shutdownGracefully()
    }

    func connect(
        index: Int, group: MultiThreadedEventLoopGroup, sslContext: NIOSSLContext, statistics: LoadStatistics
    ) -> EventLoopFuture<any Channel> {
        let hostname = String(format: "sim-%05d", index)
        let (serverName, host, port, imageType, interval) = (serverName, host, port, imageType, interval)
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                }.flatMap {
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                SimulatedMachine(
                                    hostname: hostname, imageType: imageType, interval: .seconds(Int64(interval)),
                                    statistics: statistics))
                        }
                    }
                    return channel.pipeline.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(name: "upgrade-request", promise: nil)
                        }))
                }.flatMap {
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            UpgradeRequestHandler(host: "\(serverName):\(port)", path: "/ws/slave", subprotocol: "iconograph-slave",
                                statistics: statistics),
                            name: "upgrade-request")
                    }
                }
            }
        if sourceAddresses > 1, let source = try? SocketAddress(ipAddress: "127.0.0.\(1 + index % sourceAddresses)", port: 0) {
            bootstrap = bootstrap.bind(to: source)
        }
        return bootstrap.connect(host: host, port: port)
    }

    /// User plus system CPU seconds of a process, from /proc/PID/stat.
    static func cpuSeconds(_ pid: Int) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "comm": state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
