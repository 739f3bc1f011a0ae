import Testing
@testable import LoadServer

@Test func LoadServerModuleLoads() {
    #expect(Bool(true))
}
