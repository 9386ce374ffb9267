public import Foundation
public import Logging

/// Mounts a filesystem on a fresh temporary directory for the duration of a closure.
public enum TemporaryMount {
    /// Mounts `device` on a new directory under `parent`, runs `body` with its path, then
    /// unmounts and removes the directory, also when `body` throws.
    public static func with<T: Sendable>(
        device: String, parent: String = NSTemporaryDirectory(), runner: any ToolRunner, logger: Logger,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let directory = (parent as NSString).appendingPathComponent("icon-mount-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw IconError(.io, "cannot create mount point \(directory)", cause: error)
        }
        do {
            try await runner.checked(Mount.mount(device: device, on: directory), logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        do {
            let value = try await body(directory)
            try await runner.checked(Mount.unmount(directory), logger: logger)
            try? FileManager.default.removeItem(atPath: directory)
            return value
        } catch {
            if (try? await runner.run(Mount.unmount(directory), logger: logger))?.succeeded == true {
                try? FileManager.default.removeItem(atPath: directory)
            }
            throw error
        }
    }
}
