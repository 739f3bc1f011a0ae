import Testing
@testable import Postgres

@Test func PostgresModuleLoads() {
    #expect(Bool(true))
}
