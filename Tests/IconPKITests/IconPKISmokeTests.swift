import Testing
@testable import IconPKI

@Suite struct IconPKISmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
