import Testing
@testable import IconBoot

@Suite struct IconBootSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
