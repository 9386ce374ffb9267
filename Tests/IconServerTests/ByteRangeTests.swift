@testable import IconServer
import Testing

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-99", ByteRange.partial(0...99)),
        ("bytes=0-0", .partial(0...0)),
        ("bytes=900-", .partial(900...999)),
        ("bytes=-100", .partial(900...999)),
        ("bytes=-5000", .partial(0...999)),
        ("bytes=990-5000", .partial(990...999)),
        (" bytes=1-2 ", .partial(1...2)),
        ("bytes= 3 - 4", .partial(3...4)),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=1000-1001", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-2", .whole),
        ("bytes=abc", .whole),
        ("bytes=-", .whole),
        ("bytes=+1-2", .whole),
        ("bytes=0-1,3-4", .whole),
        ("chunks=0-1", .whole),
        ("bytes=99999999999999999999999-", .whole),
    ])
    func parse(header: String, expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 1000) == expected)
    }

    @Test func noHeaderAndEmptyFile() {
        #expect(ByteRange.parse(nil, size: 10) == .whole)
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-10", size: 0) == .unsatisfiable)
    }
}
