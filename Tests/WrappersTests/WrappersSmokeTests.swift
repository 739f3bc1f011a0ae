import Testing
@testable import Wrappers

@Test func WrappersModuleLoads() {
    #expect(Bool(true))
}
