import Testing
@testable import IconCore

@Suite struct IconCoreSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
