import Foundation
import Logging
import Postgres
import Testing
import TestSupport
import RPCContract
import XMLRPC
@testable import LoadServer

/// `callProcedure`: a CU's SQL function of schema `curation`, run in its step against a real
/// PostgreSQL (`WSA_TEST_DATABASE`). Each test has a database of its own, with the test
/// functions below; their names start with `proc_test` / `test_` so that they meet nothing else.
@Suite("Curation procedures (PostgreSQL)", .enabled(if: TestEnvironment.hasDatabase))
struct ProcedureTests {
    /// The scratch table and the test functions: one that inserts and counts, one of numbers,
    /// one that inserts and then fails, one that returns NULL, one that returns nothing, and one
    /// outside schema curation.
    static let setup = """
        CREATE SCHEMA IF NOT EXISTS curation;
        CREATE TABLE public.proc_test_rows (tag text NOT NULL, id bigint NOT NULL);
        CREATE FUNCTION curation.test_insert_rows(p_n bigint, p_tag text, p_ids bigint[]) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE inserted bigint;
        BEGIN
            INSERT INTO public.proc_test_rows (tag, id)
            SELECT p_tag, g FROM generate_series(1, p_n) AS g
            UNION ALL SELECT p_tag, unnest(p_ids);
            GET DIAGNOSTICS inserted = ROW_COUNT;
            RETURN inserted;
        END $$;
        CREATE FUNCTION curation.test_scale(p_x double precision, p_factor bigint) RETURNS bigint
        LANGUAGE sql AS $$ SELECT round(p_x * p_factor)::bigint $$;
        CREATE FUNCTION curation.test_fail(p_tag text) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO public.proc_test_rows (tag, id) VALUES (p_tag, -1);
            RAISE EXCEPTION 'frame set % cannot be merged', p_tag;
        END $$;
        CREATE FUNCTION curation.test_null() RETURNS bigint LANGUAGE sql AS $$ SELECT NULL::bigint $$;
        CREATE FUNCTION curation.test_void() RETURNS void LANGUAGE sql AS $$ SELECT $$;
        CREATE FUNCTION public.test_outside() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;
        """

    /// A started service on a fresh database with the test functions, the write lease and one
    /// open step; shut down afterwards.
    struct Fixture {
        var service: CurationService
        var conninfo: String
        var token: FencingToken
        var cuEventID: Int

        func call(_ name: String, _ arguments: [ProcedureArgument], token: FencingToken? = nil) async throws -> Int64 {
            try await service.callProcedure(token: token ?? self.token, cuEventID: cuEventID, name: name,
                                            arguments: arguments)
        }

        func finish(succeeded: Bool) async throws {
            _ = try await service.finishStep(token: token, cuEventID: cuEventID, succeeded: succeeded,
                                             message: succeeded ? "" : "the test failed it")
        }

        /// Rows of the scratch table as another session sees them (committed only).
        func committedRows(tag: String? = nil) throws -> Int {
            let db = try connect(conninfo)
            defer { db.close() }
            return try db.queryValue(Int.self, "SELECT count(*)::int FROM proc_test_rows WHERE \(tag)::text IS NULL OR tag = \(tag)")
        }
    }

    static func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await withLeaseDatabase("procedures") { conninfo in
            let db = try connect(conninfo)
            try db.execute(unsafeSQL: setup)
            db.close()
            let spool = FileManager.default.temporaryDirectory
                .appendingPathComponent("wsa-procedure-tests-\(UUID().uuidString)", isDirectory: true)
            defer { try? FileManager.default.removeItem(at: spool) }
            var configuration = CurationService.Configuration(conninfo: conninfo, spool: spool)
            configuration.threads = 4
            configuration.poolSize = 2
            let service = CurationService(configuration: configuration, logger: Logger(label: "wsa.test.procedures"))
            try await service.start()
            do {
                let grant = try await service.acquire(holder: "cu8@procedure-tests:1", ttl: .seconds(3600), wait: .zero)
                let id = try await service.beginStep(token: grant.token, StepRequest(
                    cuID: 8, programme: nil, command: ["cu8"], host: "procedure-tests", version: "test"))
                try await body(Fixture(service: service, conninfo: conninfo, token: grant.token, cuEventID: id))
            } catch {
                await service.shutdown(reason: "the test ended")
                throw error
            }
            await service.shutdown(reason: "the test ended")
        }
    }

    @Test("the call returns the function's count; its rows become visible when the step commits")
    func commits() async throws {
        try await Self.withFixture { f in
            #expect(try await f.call("test_insert_rows", [.int(3), .text("commit"), .intArray([10, 5_000_000_000])]) == 5)
            #expect(try await f.call("test_insert_rows", [.int(0), .text("commit"), .intArray([])]) == 0)
            #expect(try await f.call("test_scale", [.double(2.5), .int(4_000_000_000)]) == 10_000_000_000)
            #expect(try await f.call("test_null", []) == 0)
            #expect(try f.committedRows() == 0)
            try await f.finish(succeeded: true)
            #expect(try f.committedRows(tag: "commit") == 5)
            let db = try connect(f.conninfo)
            defer { db.close() }
            #expect(try db.queryValue(Int64.self, "SELECT max(id) FROM proc_test_rows") == 5_000_000_000)
        }
    }

    @Test("the rows of a step that fails are gone")
    func rollsBack() async throws {
        try await Self.withFixture { f in
            #expect(try await f.call("test_insert_rows", [.int(4), .text("rollback"), .intArray([])]) == 4)
            try await f.finish(succeeded: false)
            #expect(try f.committedRows() == 0)
        }
    }

    @Test("unknown names, illegal names and wrong arguments are refused with invalidArgument and nothing runs")
    func refusals() async throws {
        try await Self.withFixture { f in
            let unknown = await #expect(throws: LoadServerError.self) { try await f.call("no_such_function", []) }
            #expect(unknown?.code == .invalidArgument)
            #expect(unknown?.message.contains("curation.no_such_function") == true)
            #expect(unknown?.message.contains("test_insert_rows") == true)
            // Functions outside schema curation are not curation functions.
            let outside = await #expect(throws: LoadServerError.self) { try await f.call("test_outside", []) }
            #expect(outside?.code == .invalidArgument)

            for name in ["", "Test_insert_rows", "1test", "_test", "test_insert_rows; DROP TABLE proc_test_rows",
                         "test_insert_rows(1)", "curation.test_insert_rows", "test-insert", "\"test_null\"",
                         String(repeating: "a", count: 64), "tést"] {
                let error = await #expect(throws: LoadServerError.self, "\(name)") { try await f.call(name, []) }
                #expect(error?.code == .invalidArgument, "\(name)")
            }
            #expect(CurationService.isProcedureName(String(repeating: "a", count: 63)))

            let types = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", [.text("3"), .int(3)])
            }
            #expect(types?.code == .invalidArgument)
            #expect(types?.message == "curation.test_insert_rows takes (p_n bigint, p_tag text, p_ids bigint[]), not (text, bigint)")
            let void = await #expect(throws: LoadServerError.self) { try await f.call("test_void", []) }
            #expect(void?.code == .invalidArgument)
            let many = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", Array(repeating: .int(1), count: 17))
            }
            #expect(many?.code == .invalidArgument)
            let long = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", [.int(1), .text(String(repeating: "x", count: 10_001)), .intArray([])])
            }
            #expect(long?.code == .invalidArgument)
            let big = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", [.int(1), .text("x"), .intArray(Array(repeating: 1, count: 1_000_001))])
            }
            #expect(big?.code == .invalidArgument)

            // Nothing ran, and the step goes on.
            #expect(try await f.call("test_insert_rows", [.int(1), .text("after"), .intArray([])]) == 1)
            try await f.finish(succeeded: true)
            #expect(try f.committedRows() == 1)
            let db = try connect(f.conninfo)
            defer { db.close() }
            #expect(try db.queryValue(Int.self, "SELECT count(*)::int FROM pg_tables WHERE tablename = 'proc_test_rows'") == 1)
        }
    }

    @Test("a RAISE reaches the caller, through the wire too; the step can go on and commit without the failed call's rows")
    func raise() async throws {
        try await Self.withFixture { f in
            #expect(try await f.call("test_insert_rows", [.int(2), .text("before"), .intArray([])]) == 2)
            let error = await #expect(throws: LoadServerError.self) { try await f.call("test_fail", [.text("LAS-17")]) }
            #expect(error?.code == .databaseError)
            #expect(error?.message.hasPrefix("curation.test_fail: frame set LAS-17 cannot be merged") == true)

            // Over XML-RPC, as DbHandler sees it.
            let registry = LoadServerMethods.registry(service: f.service, resumer: nil)
            let context = XMLRPCCallContext(caller: "cu8", role: LoadServerMethods.curator)
            func wire(_ name: String, _ arguments: [ProcedureArgument]) async throws -> XMLRPCResponse {
                let params = RPC.CallProcedure.Params(token: f.token, cuEventID: f.cuEventID, name: name, arguments: arguments)
                let body = try XMLRPCRequest(methodName: RPCMethod.callProcedure.rawValue,
                                             params: RPC.CallProcedure.encode(params)).encoded()
                return try XMLRPCResponse(decoding: await registry.handle(body: body, context: context))
            }
            guard case .fault(let fault) = try await wire("test_fail", [.text("LAS-18")]) else {
                Issue.record("a failing procedure did not fault")
                return
            }
            #expect(fault.code == ServerFault.databaseError.rawValue)
            #expect(fault.string.hasPrefix("curation.test_fail: frame set LAS-18 cannot be merged"))
            guard case .success(let value) = try await wire("test_scale", [.double(1.5), .int(6_000_000_000)]) else {
                Issue.record("test_scale faulted over the wire")
                return
            }
            #expect(try RPC.CallProcedure.decode(result: value) == 9_000_000_000)
            let reader = XMLRPCCallContext(caller: "viewer", role: LoadServerMethods.reader)
            let body = try XMLRPCRequest(methodName: RPCMethod.callProcedure.rawValue, params: RPC.CallProcedure.encode(
                .init(token: f.token, cuEventID: f.cuEventID, name: "test_null", arguments: []))).encoded()
            guard case .fault = try XMLRPCResponse(decoding: await registry.handle(body: body, context: reader)) else {
                Issue.record("a reader could call callProcedure")
                return
            }

            #expect(try await f.call("test_insert_rows", [.int(1), .text("after"), .intArray([])]) == 1)
            try await f.finish(succeeded: true)
            #expect(try f.committedRows(tag: "before") == 2)
            #expect(try f.committedRows(tag: "after") == 1)
            #expect(try f.committedRows(tag: "LAS-17") == 0)
            #expect(try f.committedRows(tag: "LAS-18") == 0)
        }
    }

    @Test("a stale token is refused and nothing runs")
    func staleToken() async throws {
        try await Self.withFixture { f in
            let stale = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", [.int(1), .text("stale"), .intArray([])], token: f.token - 1)
            }
            #expect(stale?.code == .staleToken)
            let newer = await #expect(throws: LoadServerError.self) {
                try await f.call("test_insert_rows", [.int(1), .text("stale"), .intArray([])], token: f.token + 1)
            }
            #expect(newer?.code == .staleToken)
            #expect(try await f.call("test_insert_rows", [.int(1), .text("fresh"), .intArray([])]) == 1)
            try await f.finish(succeeded: true)
            #expect(try f.committedRows(tag: "stale") == 0)
            #expect(try f.committedRows(tag: "fresh") == 1)
        }
    }

    @Test("a run that is no longer open is refused")
    func closedRun() async throws {
        try await Self.withFixture { f in
            try await f.finish(succeeded: true)
            let error = await #expect(throws: LoadServerError.self) { try await f.call("test_null", []) }
            #expect(error?.code == .unknownStep)
        }
    }
}
