import LoadServer
import Postgres
import RPCContract
import Testing
import XMLRPC

/// The layer's error type: stable codes, XML-RPC faults, mapping from PostgreSQL errors.
@Suite("Load server errors")
struct LoadServerErrorTests {
    @Test("codes are unique, stable and outside the range XML-RPC reserves")
    func codes() {
        let codes = LoadServerError.Code.all
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { !(-32768 ... -32000).contains($0.rawValue) })
        #expect(codes.allSatisfy { (2000 ..< 3000).contains($0.rawValue) })
        #expect(LoadServerError.Code.leaseHeld.rawValue == 2001)
        #expect(LoadServerError.Code.staleToken.rawValue == 2002)
        #expect(LoadServerError.Code.leaseExpired.rawValue == 2003)
        #expect(LoadServerError.Code.leaseReleased.rawValue == 2004)
        #expect(LoadServerError.Code.staleToken.description == "staleToken")
    }

    @Test("an error becomes a fault with its code and safe message, without the detail")
    func fault() {
        let error = LoadServerError(.staleToken, "stale fencing token 3", sqlState: "WS001",
                                    detail: "statement: SELECT wsa_lease_fence($1)")
        #expect(error.fault.code == 2002)
        #expect(error.fault.string == "stale fencing token 3")
        #expect(error.description == "stale fencing token 3")
        #expect(error.debugDescription.contains("WS001"))
        #expect(error.debugDescription.contains("wsa_lease_fence"))
        #expect(error.isLeaseLost)
        #expect(!LoadServerError(.leaseHeld, "held").isLeaseLost)
    }

    @Test("PostgreSQL errors map onto the layer's codes")
    func mapping() {
        func mapped(_ sqlState: String?, _ code: PostgresError.Code = .queryFailed) -> LoadServerError.Code {
            LoadServerError.from(PostgresError(code: code, message: "m", sqlState: sqlState), operation: "op").code
        }
        #expect(mapped("WS001") == .staleToken)
        #expect(mapped("WS002") == .leaseExpired)
        #expect(mapped("WS003") == .leaseReleased)
        #expect(mapped("22023") == .invalidArgument)
        #expect(mapped(nil, .connectionClosed) == .databaseUnavailable)
        #expect(mapped("23505") == .databaseError)
        #expect(LoadServerError.lease(from: PostgresError(code: .queryFailed, message: "m", sqlState: "23505")) == nil)
        // A connection failure names the operation but not the connection string.
        let unavailable = LoadServerError.from(
            PostgresError(code: .connectionFailed, message: "cannot connect to host=db password=secret"),
            operation: "acquire the write lease")
        #expect(unavailable.message == "acquire the write lease: the database is unavailable")
    }
}
