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
