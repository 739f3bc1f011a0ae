import Testing
@testable import FITS

@Test func FITSModuleLoads() {
    #expect(Bool(true))
}
