import Testing
@testable import IconServer

@Suite struct IconServerSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
