import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches `<image-path>/<type>/` with inotify and reports each `manifest.json` renamed (or written) into it.
///
/// A type directory that does not exist yet is picked up when it is created or moved into
/// `<image-path>` (a watch on the parent); if a `manifest.json` is already inside by the time its
/// watch is added, that counts as new. A type directory removed or moved away is dropped and
/// picked up again the same way.
///
/// The inotify descriptor is non-blocking; a dispatch read source reads it when it has events
/// and hands them to the async side. Cancelling the source closes it, for shutdown.
public struct ManifestWatcher: Service {
    /// Directory holding one sub-directory per image type (`--image-path`).
    public let imagePath: String
    /// The image types whose directories are watched.
    public let imageTypes: [String]
    let logger: Logger
    let onManifest: @Sendable (String) async -> Void

    public init(
        imagePath: String, imageTypes: [String], logger: Logger, onManifest: @escaping @Sendable (String) async -> Void
    ) {
        self.imagePath = imagePath
        self.imageTypes = imageTypes
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
        var table = WatchTable(fd: fd, imagePath: imagePath, imageTypes: imageTypes, logger: logger)
        table.start()
        // The descriptor is non-blocking: a dispatch read source says when events are there.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let (events, continuation) = AsyncStream.makeStream(of: String.self)
        let state = SharedTable(table)
        let source = ReadSource(DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "icon.manifest-watcher")))
        source.source.setEventHandler {
            state.table.withLock { table in
                Self.readAvailable(fd: fd, table: &table) { continuation.yield($0) }
            }
        }
        source.source.setCancelHandler {
            close(fd)
            continuation.finish()
        }
        source.source.resume()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                for await type in events { await onManifest(type) }
            } onGracefulShutdown: {
                source.source.cancel()
            }
        } onCancel: {
            source.source.cancel()
        }
        #else
        logger.warning("manifest watcher: inotify is not available on this system")
        #endif
    }

    #if canImport(Glibc)
    /// The watches of one inotify descriptor: the parent directory and each type directory that exists.
    struct WatchTable: Sendable {
        let fd: Int32
        let imagePath: String
        let imageTypes: Set<String>
        let logger: Logger
        var parent: Int32 = -1
        var types: [Int32: String] = [:]

        init(fd: Int32, imagePath: String, imageTypes: [String], logger: Logger) {
            self.fd = fd
            self.imagePath = imagePath
            self.imageTypes = Set(imageTypes)
            self.logger = logger
        }

        static let parentMask = UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE) | UInt32(IN_ONLYDIR)
        static let typeMask = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ONLYDIR)

        /// Watches the parent and every type directory there is now.
        mutating func start() {
            parent = inotify_add_watch(fd, imagePath, Self.parentMask)
            if parent < 0 {
                logger.warning("manifest watcher: cannot watch \(imagePath) (errno \(errno)); image type directories created later are not seen")
            }
            for type in imageTypes.sorted() where add(type) == ENOENT {
                logger.notice("manifest watcher: \(imagePath)/\(type) does not exist yet; it is watched once it is created")
            }
        }

        /// Adds the watch of `type`'s directory; returns 0, or the errno of the failure (ENOENT: not there yet).
        @discardableResult
        mutating func add(_ type: String) -> Int32 {
            let path = imagePath + "/" + type
            let wd = inotify_add_watch(fd, path, Self.typeMask)
            guard wd >= 0 else {
                let failure = errno
                if failure != ENOENT {
                    logger.warning("manifest watcher: cannot watch \(path) (errno \(failure))")
                }
                return failure
            }
            types[wd] = type
            return 0
        }

        /// Applies one event; returns the image type to announce, if any.
        mutating func handle(_ event: Event) -> String? {
            if event.wd == parent && parent >= 0 {
                guard imageTypes.contains(event.name) else { return nil }
                let watched = types.first { $0.value == event.name }?.key
                if event.mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                    guard watched == nil, add(event.name) == 0 else { return nil }
                    logger.info("manifest watcher: watching \(imagePath)/\(event.name)")
                    // A manifest published before the watch was in place would otherwise go unseen.
                    return FileManager.default.fileExists(atPath: "\(imagePath)/\(event.name)/manifest.json") ? event.name : nil
                }
                if event.mask & (UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE)) != 0, let watched {
                    // A moved directory keeps its watch; it no longer is this type's directory.
                    inotify_rm_watch(fd, watched)
                    types[watched] = nil
                }
                return nil
            }
            guard let type = types[event.wd] else { return nil }
            if event.mask & UInt32(IN_IGNORED) != 0 {
                types[event.wd] = nil
                return nil
            }
            return event.name == "manifest.json" ? type : nil
        }
    }

    /// The watch table, shared by the read source's handler calls.
    final class SharedTable: Sendable {
        let table: Mutex<WatchTable>
        init(_ table: WatchTable) { self.table = Mutex(table) }
    }

    /// The read source, cancelled from the shutdown handlers.
    ///
    /// `@unchecked`: Dispatch sources may be cancelled from any thread; Dispatch does not mark
    /// them `Sendable`.
    final class ReadSource: @unchecked Sendable {
        let source: any DispatchSourceRead
        init(_ source: any DispatchSourceRead) { self.source = source }
    }

    /// Reads the events there are now, without blocking.
    static func readAvailable(fd: Int32, table: inout WatchTable, emit: (String) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            for event in parse(buffer[0..<count]) {
                if let type = table.handle(event) { emit(type) }
            }
        }
    }
    #endif

    /// One `struct inotify_event`: watch descriptor, event mask and the name (empty for the watched directory itself).
    struct Event: Equatable {
        let wd: Int32
        let mask: UInt32
        let name: String
    }

    /// Splits a buffer of `struct inotify_event` records into events.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var result: [Event] = []
        var offset = bytes.startIndex
        let header = 16  // int wd; uint32 mask, cookie, len
        while offset + header <= bytes.endIndex {
            let base = offset - bytes.startIndex
            let wd = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: base, as: Int32.self) }
            let mask = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self) }
            let length = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: base + 12, as: UInt32.self) })
            let nameStart = offset + header
            guard nameStart + length <= bytes.endIndex else { break }
            let nameBytes = bytes[nameStart..<(nameStart + length)].prefix { $0 != 0 }
            result.append(Event(wd: wd, mask: mask, name: String(decoding: nameBytes, as: UTF8.self)))
            offset = nameStart + length
        }
        return result
    }
}
