import Foundation
import IconCore
import IconTestSupport
import Testing

@Suite struct ISO9660Tests {
    @Test(arguments: [
        ("1459629471.iso", "ICON_DEMO_A"),
        ("1459629717.iso", "ICON_DEMO_B"),
        ("1700000000.iso", "Iconograph 2023-11-14"),
    ])
    func readsCompatVolumeIDs(file: String, expected: String) throws {
        #expect(try ISO9660.volumeID(atPath: CompatVectors.path("images/demo/\(file)")) == expected)
    }

    @Test func rejectsAFileThatIsNotAnISO() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.join("1.iso")
            try Data(repeating: 0x41, count: 40_000).write(to: URL(fileURLWithPath: path))
            #expect {
                try ISO9660.volumeID(atPath: path)
            } throws: { error in
                IconError.Code.malformed ~= error && "\(error)".contains(path)
            }
        }
    }

    @Test func missingFileIsAnIOErrorNamingIt() {
        #expect {
            try ISO9660.volumeID(atPath: "/nonexistent/9.iso")
        } throws: { error in
            IconError.Code.io ~= error && "\(error)".contains("/nonexistent/9.iso")
        }
    }
}
