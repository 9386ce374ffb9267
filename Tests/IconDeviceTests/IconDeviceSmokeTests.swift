import Testing
@testable import IconDevice

@Suite struct IconDeviceSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
