import Testing
@testable import Curation

@Test func CurationModuleLoads() {
    #expect(Bool(true))
}
