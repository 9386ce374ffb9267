import Foundation
import IconCore

/// What a machine's files hold, to prove that a refused update changed nothing.
public enum DirectorySnapshot {
    /// Every entry of `directory` but `ignoring`: file name → SHA-256 of a file, or
    /// `-> target` of a link; plus each of `files` that exists, keyed by its last path
    /// component. Two equal snapshots mean the files did not change.
    public static func take(_ directory: String, files: [String] = [], ignoring: Set<String> = [".fetch.lock"])
        -> [String: String]
    {
        var result: [String: String] = [:]
        for file in files {
            if let digest = try? FileHasher.sha256Hex(ofFileAt: file) {
                result[String(file.split(separator: "/").last ?? "")] = digest
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where !ignoring.contains(name) {
            let path = "\(directory)/\(name)"
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                result[name] = "-> \(target)"
            } else {
                result[name] = (try? FileHasher.sha256Hex(ofFileAt: path)) ?? "?"
            }
        }
        return result
    }
}
