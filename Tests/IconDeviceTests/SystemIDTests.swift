import Crypto
import Foundation
import IconCore
@testable import IconProvision
import IconTestSupport
import Testing


@Suite("System id database and SSH host keys")
struct SystemIDUnitTests {
    @Test func allocationSkipsTakenIdsAndAppends() async throws {
        try await withTemporaryDirectory { (dir: TemporaryDirectory) async throws in
            let database = SystemIDDatabase(directory: dir.join("db"))
            let values = Locked([0xa1b2c3, 0xa1b2c3, 5])
            let next = { () -> Int in
                var value = 0
                values.mutate { value = $0.removeFirst() }
                return value
            }
            #expect(try database.allocate(random: next) == "a1b2c3")
            #expect(try database.allocate(random: next) == "000005")
            #expect(try String(contentsOfFile: database.path, encoding: .utf8) == "a1b2c3\n000005\n")
            #expect(try database.ids() == ["a1b2c3", "000005"])
        }
    }

    @Test func concurrentAllocationsNeverCollide() async throws {
        try await withTemporaryDirectory { (dir: TemporaryDirectory) async throws in
            let database = SystemIDDatabase(directory: dir.path)
            // A tiny id space (16 ids) makes collisions certain unless the lock serialises runs.
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 {
                    group.addTask { try database.allocate(random: { Int.random(in: 0..<16) }) }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 12)
            #expect(Set(try database.ids()) == Set(ids))
        }
    }

    @Test func idsAreSixLowercaseHexDigits() {
        #expect(SystemIDDatabase.format(0) == "000000")
        #expect(SystemIDDatabase.format(0xABCDEF) == "abcdef")
        #expect(SystemIDDatabase.format(0x1_000_001) == "000001")
    }

    @Test func privateKeyFileLayoutIsOpenSSH() throws {
        let key = SSHHostKey(privateKey: try .init(rawRepresentation: [UInt8](repeating: 7, count: 32)), comment: "root@abc123")
        let text = key.privateKeyFile(checkInt: 0x0102_0304)
        #expect(text.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
        #expect(text.hasSuffix("\n-----END OPENSSH PRIVATE KEY-----\n"))
        let lines = text.split(separator: "\n").dropFirst().dropLast()
        #expect(lines.dropLast().allSatisfy { $0.count == 70 })
        let body = try #require(Data(base64Encoded: lines.joined()))
        #expect(body.starts(with: Array("openssh-key-v1\0".utf8)))
        #expect(key.publicKeyLine.hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"))
        #expect(key.publicKeyLine.hasSuffix(" root@abc123\n"))
    }

    @Test(.requiresExecutable("ssh-keygen", package: "openssh-client"))
    func sshKeygenAcceptsTheKeyFiles() async throws {
        try await withTemporaryDirectory { (dir: TemporaryDirectory) async throws in
            let key = SSHHostKey(comment: "root@0badf0")
            try key.write(to: dir.path)
            let file = dir.join("ssh_host_ed25519_key")
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
            let fingerprint = try await DiskTools.run("ssh-keygen", ["-l", "-f", file])
            let publicFingerprint = try await DiskTools.run("ssh-keygen", ["-l", "-f", file + ".pub"])
            #expect(fingerprint.contains("root@0badf0 (ED25519)"))
            #expect(fingerprint == publicFingerprint)
            // Deriving the public key from our private file gives our public file's key.
            let derived = try await DiskTools.run("ssh-keygen", ["-y", "-f", file])
            #expect(derived.split(separator: " ").prefix(2) == key.publicKeyLine.split(separator: " ").prefix(2))
        }
    }
}

@Suite("System id drive on a loop device", .serialized, .requiresRoot("loop devices and mounts"), DiskTools.required, .tags(.loopDevices))
struct SystemIDImagerTests {
    @Test func twoDrivesGetTwoIdsLabelFilesAndModes() async throws {
        try await withTemporaryDirectory(prefix: "icon-systemid") { (dir: TemporaryDirectory) async throws in
            let database = SystemIDDatabase(directory: dir.join("db"))
            var results: [SystemIDImager.Result] = []
            for name in ["a.img", "b.img"] {
                let disk = dir.join(name)
                try DiskTools.sparseDisk(at: disk, megabytes: 32)
                let imager = SystemIDImager(device: disk, database: database, confirm: { _ in true }, temporaryDirectory: dir.path)
                results.append(try await imager.run())
                #expect(try await DiskTools.loops(of: disk).isEmpty, "loop device left attached")
            }
            #expect(results[0].id != results[1].id)
            #expect(results.allSatisfy { $0.id.count == 6 && $0.id.allSatisfy(\.isHexDigit) })
            #expect(try database.ids() == results.map(\.id))

            try await DiskTools.withLoop(dir.join("b.img")) { loop in
                let table = try await DiskTools.run("parted", ["--script", "--machine", loop, "print"])
                #expect(table.contains(":msdos:"))
                #expect(try await DiskTools.blkid("\(loop)p1", "LABEL") == "SYSTEMID")
                #expect(try await DiskTools.blkid("\(loop)p1", "TYPE") == "ext4")
                try await TemporaryMount.with(device: "\(loop)p1", parent: dir.path, runner: DiskTools.runner, logger: DiskTools.logger) { mnt in
                    let fm = FileManager.default
                    #expect(try String(contentsOfFile: "\(mnt)/systemid", encoding: .utf8) == "\(results[1].id)\n")
                    #expect(try fm.attributesOfItem(atPath: "\(mnt)/ssh_host_ed25519_key")[.posixPermissions] as? Int == 0o600)
                    #expect(try fm.attributesOfItem(atPath: "\(mnt)/ssh_host_ed25519_key.pub")[.posixPermissions] as? Int == 0o644)
                    let pub = try String(contentsOfFile: "\(mnt)/ssh_host_ed25519_key.pub", encoding: .utf8)
                    #expect(pub == results[1].publicKey + "\n")
                    #expect(pub.hasSuffix(" root@\(results[1].id)\n"))
                }
            }
        }
    }

    @Test func declinedDriveIsLeftAloneAndNoIdIsUsed() async throws {
        try await withTemporaryDirectory(prefix: "icon-systemid") { (dir: TemporaryDirectory) async throws in
            let disk = dir.join("c.img")
            try DiskTools.sparseDisk(at: disk, megabytes: 32)
            let database = SystemIDDatabase(directory: dir.join("db"))
            let imager = SystemIDImager(device: disk, database: database, confirm: { _ in false })
            await expectIconError(.notConfirmed) { try await imager.run() }
            #expect(try database.ids().isEmpty)
            #expect(try await DiskTools.blkid(disk, "TYPE") == "")
        }
    }
}
