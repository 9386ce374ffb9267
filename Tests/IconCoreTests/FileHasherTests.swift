import Crypto
import Foundation
import IconCore
import IconTestSupport
import Testing

@Suite struct FileHasherTests {
    @Test func matchesTheCompatManifestHashes() throws {
        // Hashes the original's manifest builder wrote for the demo images.
        #expect(
            try FileHasher.sha256Hex(ofFileAt: CompatVectors.path("images/demo/1459629471.iso"))
                == "8c736cb05c042597217c791c8993a96d2cd34bbced0df8b856db6e03a4260985")
    }

    @Test func streamsFilesLargerThanTheBuffer() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("big")
            var bytes = [UInt8](repeating: 0, count: 3 * 1_048_576 + 17)
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try FileHasher.sha256Hex(ofFileAt: path) == SHA256.hash(data: bytes).hexString)
        }
    }

    @Test func hexRoundTrip() {
        let bytes: [UInt8] = [0, 1, 0xab, 0xff]
        #expect(bytes.hexString == "0001abff")
        #expect([UInt8](hexString: "0001ABff") == bytes)
        #expect([UInt8](hexString: "abc") == nil)
        #expect([UInt8](hexString: "zz") == nil)
    }
}
