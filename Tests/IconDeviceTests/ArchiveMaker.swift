import Foundation
import IconTestSupport

/// Builds crafted tar archives with Python's `tarfile`, which writes any name, link target
/// or entry type we ask for (unlike `tar`, which sanitises).
enum ArchiveMaker {
    /// The Python that adds entries; `spec` is a list of (kind, name, payload) tuples.
    static let script = #"""
        import io, sys, tarfile, json
        out, compression, spec = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
        with tarfile.open(out, "w:gz" if compression == "gz" else "w", format=tarfile.PAX_FORMAT if compression != "gnu" else tarfile.GNU_FORMAT) as tar:
            for kind, name, payload in spec:
                info = tarfile.TarInfo(name)
                info.mode = 0o644
                if kind == "file":
                    data = payload.encode()
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                    continue
                if kind == "dir":
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                elif kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, payload
                elif kind == "hardlink":
                    info.type, info.linkname = tarfile.LNKTYPE, payload
                elif kind == "chardev":
                    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                elif kind == "fifo":
                    info.type = tarfile.FIFOTYPE
                tar.addfile(info)
        """#

    /// Writes an archive of `entries` to `path`; `compression` is "", "gz" or "gnu" (GNU format).
    static func make(_ path: String, compression: String = "", _ entries: [(String, String, String)]) throws {
        let spec = try JSONSerialization.data(withJSONObject: entries.map { [$0.0, $0.1, $0.2] })
        // The spec goes through a file: payloads can be larger than a command line.
        let specPath = path + ".spec.json"
        try spec.write(to: URL(fileURLWithPath: specPath))
        defer { try? FileManager.default.removeItem(atPath: specPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, compression, specPath]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ArchiveMakerFailure(path: path) }
    }
}

extension ArchiveMaker {
    /// Writes only the ustar header of a regular file `name` of `size` bytes: the start of an
    /// archive whose content the test server supplies.
    static func header(_ path: String, name: String, size: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys, tarfile; i = tarfile.TarInfo(sys.argv[2]); i.size = int(sys.argv[3]); i.mode = 0o644; "
                + "open(sys.argv[1], 'wb').write(i.tobuf(tarfile.USTAR_FORMAT))",
            path, name, String(size),
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ArchiveMakerFailure(path: path) }
    }
}

struct ArchiveMakerFailure: Error { let path: String }
