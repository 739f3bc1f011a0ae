import Testing
@testable import XMLRPC

@Test func xmlrpcModuleLoads() {
    #expect(Bool(true))
}
