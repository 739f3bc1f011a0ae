import Foundation
import RPCContract
import Testing
import XMLRPC
import SystemSupport

/// The one contract between DbHandler and dbrpcserver: what one end encodes the other decodes
/// to the same value, and an answer of the wrong shape is an error, never a default.
@Suite("RPC contract")
struct ContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000.25)

    /// Encodes `result` as the server does and decodes it as the client does.
    static func roundTrip<Call: RPCCall>(_ call: Call.Type, _ result: Call.Result) throws -> Call.Result {
        try Call.decode(result: Call.encode(result: result))
    }

    @Test("every method name is registered once, and each call names its own method")
    func names() {
        let calls: [any RPCCall.Type] = [
            RPC.ServerInfo.self, RPC.LeaseStatusCall.self, RPC.WriteLock.self, RPC.Heartbeat.self, RPC.WriteUnlock.self,
            RPC.BeginStep.self, RPC.UpdateCurationLog.self, RPC.LoadTransactionData.self, RPC.UploadTransactionFile.self,
            RPC.ListRuns.self, RPC.FailedRuns.self, RPC.Resume.self, RPC.ReserveIDs.self, RPC.Deprecate.self,
            RPC.CallProcedure.self,
        ]
        #expect(Set(calls.map { $0.method }) == Set(RPCMethod.allCases))
        #expect(calls.allSatisfy { !$0.help.isEmpty && !$0.signatures.isEmpty })
        #expect(calls.allSatisfy { $0.help.hasPrefix($0.method.rawValue + "(") })
    }

    @Test("fault codes are 2001–2013, unique, named, and the lease-lost ones are the three refusals")
    func faults() {
        #expect(ServerFault.all.map(\.rawValue) == Array(2001...2013).filter { ServerFault.all.map(\.rawValue).contains($0) })
        #expect(Set(ServerFault.all.map(\.rawValue)) == Set(2001...2013))
        #expect(Set(ServerFault.all.map(\.name)).count == ServerFault.all.count)
        #expect(ServerFault.all.filter(\.isLeaseLost) == [.staleToken, .leaseExpired, .leaseReleased])
        #expect(ServerFault(code: 2007) == .transactionFileMissing)
        #expect(ServerFault(code: 3101) == nil)
    }

    @Test("parameters decode to what the client encoded")
    func parameters() throws {
        let lock = RPC.WriteLock.Params(holder: "cu4@host:1", ttl: .seconds(30), wait: .seconds(5))
        #expect(try RPC.WriteLock.decode(params: RPC.WriteLock.encode(lock)) == lock)
        let beat = RPC.Heartbeat.Params(holder: "cu4@host:1", token: 7)
        #expect(try RPC.Heartbeat.decode(params: RPC.Heartbeat.encode(beat)) == beat)
        let run = StepRequest(cuID: 4, programme: "LAS", command: ["cu4", "--programme", "LAS"], host: "h", version: "1.0",
                              resumeOf: 12)
        let begun = try RPC.BeginStep.decode(params: RPC.BeginStep.encode((9, run)))
        #expect(begun.token == 9 && begun.run == run)
        let end = RPC.UpdateCurationLog.Params(token: 9, cuEventID: 3, status: .failed, message: "disk full")
        #expect(try RPC.UpdateCurationLog.decode(params: RPC.UpdateCurationLog.encode(end)) == end)
        let deprecate = RPC.Deprecate.Params(token: 9, cuEventID: 3, table: "Multiframe", ids: [5, 6], code: 2)
        #expect(try RPC.Deprecate.decode(params: RPC.Deprecate.encode(deprecate)) == deprecate)
    }

    @Test("results decode to what the server encoded")
    func results() throws {
        let grant = LeaseGrant(holder: "cu4@h:1", token: 42, grantedAt: Self.t0, expiresAt: Self.t0 + 60,
                               databaseTime: Self.t0 + 1)
        let granted = try Self.roundTrip(RPC.WriteLock.self, grant)
        #expect(granted.token == 42 && granted.holder == grant.holder)
        #expect(abs(granted.validFor.secondsValue - 59) < 1e-3)
        let outcome = StepOutcome(cuEventID: 3, status: "succeeded", loads: 2, rows: 1000)
        #expect(try Self.roundTrip(RPC.UpdateCurationLog.self, outcome) == outcome)
        let load = LoadResult(checksum: String(repeating: "a", count: 64), table: "lasDetection", rows: 5,
                              alreadyLoaded: true, cuEventID: 3, seconds: 0.5)
        #expect(try Self.roundTrip(RPC.LoadTransactionData.self, load) == load)
        #expect(try Self.roundTrip(RPC.ReserveIDs.self, [7, 8, 9]) == [7, 8, 9])
        let run = CurationRun(cuEventID: 5, cuID: 4, cuName: "CU4", programme: "LAS", status: "failed", startedAt: Self.t0,
                              endedAt: Self.t0 + 3, host: "h", version: "1", holder: "cu4@h:1", token: 42,
                              command: ["cu4"], errorText: "disk full", resumeOf: nil)
        #expect(try Self.roundTrip(RPC.FailedRuns.self, [run]) == [run])
        let started = RPC.Resume.Started(cuEventID: 5, command: ["cu4"], pid: 1234, message: "started")
        #expect(try Self.roundTrip(RPC.Resume.self, [started]) == [started])
    }

    @Test("callProcedure: every kind of argument and a count beyond 32 bits cross the wire, XML included")
    func callProcedure() throws {
        let call = RPC.CallProcedure.Params(
            token: 9, cuEventID: 3, name: "cu8_merge",
            arguments: [.int(5_000_000_000), .int(-1), .double(-0.25), .text("LAS <&> é"), .intArray([1, 1 << 40, -7]),
                        .intArray([])])
        #expect(try RPC.CallProcedure.decode(params: RPC.CallProcedure.encode(call)) == call)
        let body = try XMLRPCRequest(methodName: RPCMethod.callProcedure.rawValue,
                                     params: RPC.CallProcedure.encode(call)).encoded()
        let received = try XMLRPCRequest(decoding: body)
        #expect(received.methodName == "callProcedure")
        #expect(try RPC.CallProcedure.decode(params: received.params) == call)
        #expect(RPC.CallProcedure.signatures.contains { $0.accepts(received.params) })

        for count: Int64 in [0, 42, 1 << 31, 12_345_678_901_234, -3] {
            #expect(try Self.roundTrip(RPC.CallProcedure.self, count) == count)
            let answer = try XMLRPCResponse.success(RPC.CallProcedure.encode(result: count)).encoded()
            guard case .success(let value) = try XMLRPCResponse(decoding: answer) else {
                Issue.record("the answer \(count) did not decode")
                continue
            }
            #expect(try RPC.CallProcedure.decode(result: value) == count)
        }
        #expect(throws: MalformedAnswer.self) { try RPC.CallProcedure.decode(result: .string("12")) }
        #expect(throws: MalformedAnswer.self) { try RPC.CallProcedure.decode(result: .nil) }

        // An argument of another shape is the server's invalidArgument fault.
        for bad: XMLRPCValue in [.bool(true), .nil, .struct([:]), .array([.int(1), .string("2")]), .array([.array([])])] {
            do {
                _ = try RPC.CallProcedure.decode(params: [.int(9), .int(3), .string("cu8_merge"), .array([.int(1), bad])])
                Issue.record("argument \(bad) was accepted")
            } catch let fault as XMLRPCFault {
                #expect(fault.code == ServerFault.invalidArgument.rawValue)
                #expect(fault.string.hasPrefix("argument 2 should be"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: XMLRPCFault.self) {
            try RPC.CallProcedure.decode(params: [.int(9), .int(3), .string("cu8_merge"), .int(1)])
        }
        #expect(throws: XMLRPCFault.self) { try RPC.CallProcedure.decode(params: [.int(9), .int(3), .string("cu8_merge")]) }
    }

    @Test("an answer of the wrong shape is an error naming the method and the member")
    func malformed() {
        #expect(throws: MalformedAnswer.self) { try RPC.WriteLock.decode(result: .struct(["holder": .string("x")])) }
        #expect(throws: MalformedAnswer.self) { try RPC.BeginStep.decode(result: .string("12")) }
        #expect(throws: MalformedAnswer.self) { try RPC.ReserveIDs.decode(result: .array([.int(1), .string("2")])) }
        #expect(throws: MalformedAnswer.self) { try RPC.Deprecate.decode(result: .nil) }
        do {
            _ = try RPC.UpdateCurationLog.decode(result: .struct(["cuEventID": .int(1), "status": .string("succeeded"),
                                                                  "loads": .int(1)]))
            Issue.record("an answer without rows was accepted")
        } catch {
            #expect(error.description == "updateCurationLog: malformed answer: no rows")
        }
    }

    @Test("a bad parameter is refused with the server's invalidArgument fault")
    func badParameters() {
        do {
            _ = try RPC.Heartbeat.decode(params: [.string("h"), .int(-1)])
            Issue.record("a negative token was accepted")
        } catch let fault as XMLRPCFault {
            #expect(fault.code == ServerFault.invalidArgument.rawValue)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: XMLRPCFault.self) {
            try RPC.UpdateCurationLog.decode(params: [.int(1), .int(2), .string("done"), .string("")])
        }
    }
}
