import Testing
@testable import IconManifest

@Suite struct IconManifestSmokeTests {
    @Test func moduleLoads() {
        #expect(Bool(true))
    }
}
