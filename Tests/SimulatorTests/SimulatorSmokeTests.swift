import Testing
@testable import SimulatorKit

@Test func SimulatorModuleLoads() {
    #expect(Bool(true))
}
