import Testing
@testable import IconBuild

@Suite struct IconBuildSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
