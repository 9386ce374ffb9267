import Foundation
import IconCore
import IconTestSupport
import Testing

@testable import IconBuild

@Suite struct StageCacheTests {
    let sources = ["deb http://m/debian bookworm main"]

    @Test func keyDependsOnEveryInputButNotPackageOrder() {
        let base = StageCache.key(release: "bookworm", arch: "amd64", flavor: .debian, sources: sources, packages: ["a", "b"])
        #expect(base.count == 64)
        #expect(base == StageCache.key(release: "bookworm", arch: "amd64", flavor: .debian, sources: sources, packages: ["b", "a"]))
        let variants = [
            StageCache.key(release: "trixie", arch: "amd64", flavor: .debian, sources: sources, packages: ["a", "b"]),
            StageCache.key(release: "bookworm", arch: "arm64", flavor: .debian, sources: sources, packages: ["a", "b"]),
            StageCache.key(release: "bookworm", arch: "amd64", flavor: .ubuntu, sources: sources, packages: ["a", "b"]),
            StageCache.key(release: "bookworm", arch: "amd64", flavor: .debian, sources: ["deb http://other/debian bookworm main"], packages: ["a", "b"]),
            StageCache.key(release: "bookworm", arch: "amd64", flavor: .debian, sources: sources, packages: ["a", "b", "c"]),
        ]
        #expect(Set(variants + [base]).count == 6)
    }

    @Test func containsOnlyCompleteTarballs() async throws {
        try await withTemporaryDirectory { dir in
            let cache = StageCache(directory: dir.path)
            try cache.prepare()
            #expect(!cache.contains(key: "k"))
            _ = FileManager.default.createFile(atPath: cache.partialTarball(forKey: "k"), contents: Data())
            #expect(!cache.contains(key: "k"))
            _ = FileManager.default.createFile(atPath: cache.tarball(forKey: "k"), contents: Data())
            #expect(cache.contains(key: "k"))
        }
    }
}

@Suite struct KernelFinderTests {
    @Test func picksTheNewestKernelThatHasAnInitrd() async throws {
        try await withTemporaryDirectory { dir in
            let boot = dir.join("boot")
            try FileManager.default.createDirectory(atPath: boot, withIntermediateDirectories: true)
            for name in ["vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64", "vmlinuz-6.1.0-10-amd64",
                         "initrd.img-6.1.0-10-amd64", "vmlinuz-6.1.0-11-amd64", "config-6.1.0-11-amd64"] {
                _ = FileManager.default.createFile(atPath: "\(boot)/\(name)", contents: Data())
            }
            let found = try KernelFinder.find(in: dir.path)
            #expect(found.version == "6.1.0-10-amd64")
            #expect(found.kernel == "\(boot)/vmlinuz-6.1.0-10-amd64")
            #expect(found.initrd == "\(boot)/initrd.img-6.1.0-10-amd64")
        }
    }

    @Test func noKernelIsNotFound() async throws {
        try await withTemporaryDirectory { dir in
            let error = #expect(throws: IconError.self) { try KernelFinder.find(in: dir.path) }
            #expect(error?.code == .notFound)
        }
    }
}

@Suite struct StageCachePruneTests {
    func touch(_ path: String, age: TimeInterval, now: Date) throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-age)], ofItemAtPath: path)
    }

    @Test func listsNewestFirstAndPrunesByCountAndAge() async throws {
        try await withTemporaryDirectory { dir in
            let cache = StageCache(directory: dir.path)
            try cache.prepare()
            let now = Date()
            try touch(cache.tarball(forKey: "new"), age: 10, now: now)
            try touch(cache.tarball(forKey: "mid"), age: 1000, now: now)
            try touch(cache.tarball(forKey: "old"), age: 100_000, now: now)
            try touch(cache.partialTarball(forKey: "broken"), age: 5, now: now)
            #expect(cache.entries().map(\.key) == ["new", "mid", "old"])

            let byAge = try cache.prune(olderThan: 50_000, now: now)
            #expect(byAge.map(\.key) == ["old"])
            #expect(!FileManager.default.fileExists(atPath: cache.partialTarball(forKey: "broken")))
            let byCount = try cache.prune(keep: 1, now: now)
            #expect(byCount.map(\.key) == ["mid"])
            #expect(cache.entries().map(\.key) == ["new"])
            #expect(cache.contains(key: "new"))
        }
    }
}
