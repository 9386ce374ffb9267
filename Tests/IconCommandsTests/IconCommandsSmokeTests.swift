import Testing
@testable import IconCommands

@Suite struct IconCommandsSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
