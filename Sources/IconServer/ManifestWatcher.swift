import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Watches `<image-path>/<type>/` with inotify and reports each `manifest.json` renamed (or written) into it.
///
/// inotify blocks, so a dedicated thread reads it and hands events to the async side; a pipe
/// wakes that thread for shutdown.
public struct ManifestWatcher: Service {
    /// Image type → directory to watch.
    public let directories: [String: String]
    let logger: Logger
    let onManifest: @Sendable (String) async -> Void

    public init(directories: [String: String], logger: Logger, onManifest: @escaping @Sendable (String) async -> Void) {
        self.directories = directories
        self.logger = logger
        self.onManifest = onManifest
    }

    public func run() async throws {
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            logger.error("manifest watcher: inotify_init1 failed (errno \(errno)); new_manifest will not be sent")
            return
        }
        var types: [Int32: String] = [:]
        for (type, path) in directories {
            let wd = inotify_add_watch(fd, path, UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE))
            if wd < 0 {
                logger.warning("manifest watcher: cannot watch \(path) (errno \(errno))")
            } else {
                types[wd] = type
            }
        }
        var stopPipe: [Int32] = [-1, -1]
        guard pipe(&stopPipe) == 0 else {
            close(fd)
            logger.error("manifest watcher: pipe failed (errno \(errno))")
            return
        }
        let (events, continuation) = AsyncStream.makeStream(of: String.self)
        let thread = Thread { [types, stopRead = stopPipe[0]] in
            Self.readLoop(fd: fd, stop: stopRead, types: types) { continuation.yield($0) }
            continuation.finish()
            close(fd)
            close(stopRead)
        }
        thread.start()
        let stopWrite = stopPipe[1]
        let stop: @Sendable () -> Void = {
            var byte: UInt8 = 1
            _ = write(stopWrite, &byte, 1)
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                for await type in events { await onManifest(type) }
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
        close(stopWrite)
        #else
        logger.warning("manifest watcher: inotify is not available on this system")
        #endif
    }

    #if canImport(Glibc)
    /// Blocks reading inotify events until `stop` becomes readable.
    static func readLoop(fd: Int32, stop: Int32, types: [Int32: String], emit: (String) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || fds[1].revents != 0 { return }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            for (wd, name) in parse(buffer[0..<count]) where name == "manifest.json" {
                if let type = types[wd] { emit(type) }
            }
        }
    }
    #endif

    /// Splits a buffer of `struct inotify_event` records into (watch descriptor, name) pairs.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [(Int32, String)] {
        var result: [(Int32, String)] = []
        var offset = bytes.startIndex
        let header = 16  // int wd; uint32 mask, cookie, len
        while offset + header <= bytes.endIndex {
            let wd = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset - bytes.startIndex, as: Int32.self) }
            let length = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset - bytes.startIndex + 12, as: UInt32.self) })
            let nameStart = offset + header
            guard nameStart + length <= bytes.endIndex else { break }
            let nameBytes = bytes[nameStart..<(nameStart + length)].prefix { $0 != 0 }
            result.append((wd, String(decoding: nameBytes, as: UTF8.self)))
            offset = nameStart + length
        }
        return result
    }
}
