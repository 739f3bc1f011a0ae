import Foundation
import Testing
@testable import XMLRPC

/// Collects what the registry's unexpected-error hook reports.
final class ErrorLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(String, String, String)] = []
    func add(_ method: String, _ error: any Error, _ context: XMLRPCCallContext) {
        lock.withLock { entries.append((method, String(describing: error), context.caller)) }
    }
    var all: [(String, String, String)] { lock.withLock { entries } }
}

struct SecretError: Error, CustomStringConvertible {
    var description: String { "connection failed: host=db password=hunter2" }
}

extension XMLRPCError.Code {
    static let staleFencingToken = XMLRPCError.Code(rawValue: 1001)
}

@Suite struct RegistryTests {
    static func sampleRegistry(log: ErrorLog? = nil) -> XMLRPCMethodRegistry {
        var r = XMLRPCMethodRegistry()
        r.register("math.add", help: "Adds two integers.", signature: .init(.int, .int, .int), access: .anyRole) { _, p in
            let (s, o) = try p.parameter(0, as: Int.self).addingReportingOverflow(p.parameter(1, as: Int.self))
            if o { throw XMLRPCError(.invalidParameters, "sum overflows") }
            return .int(s)
        }
        r.register("math.mean", help: "Mean of an array of numbers.", signature: .init(.double, .array), access: .anyRole) { _, p in
            let xs = try p.parameter(0, as: [Double].self)
            guard !xs.isEmpty else { throw XMLRPCError(.invalidParameters, "empty array") }
            return .double(xs.reduce(0, +) / Double(xs.count))
        }
        r.register("text.upper", help: "Upper-cases a string.", signatures: [], access: .anyRole) { _, p in
            .string(try p.parameter(0, as: String.self).uppercased())
        }
        r.register("admin.reset", help: "Admins only.", signatures: [.init(.boolean)], access: .roles("admin")) { _, _ in
            true
        }
        let testers = XMLRPCMethodAccess.roles(["tester", "admin"])
        r.register("fail.app", help: "", signature: .init(.nil), access: testers) { _, _ in
            throw XMLRPCError(.staleFencingToken, "fencing token 41 is stale (current 42)", detail: "lease row 7")
        }
        r.register("fail.fault", help: "", signature: .init(.nil), access: testers) { _, _ in
            throw XMLRPCFault(code: 7, string: "seven")
        }
        r.register("fail.unexpected", help: "", signature: .init(.nil), access: testers) { _, _ in
            throw SecretError()
        }
        r.register("fail.badResult", help: "", signature: .init(.string), access: testers) { _, _ in
            .string("control \u{1} character")
        }
        r.register("whoami", help: "", signatures: [.init(.struct), .init(.struct, .any)], access: testers) { ctx, _ in
            ["caller": .string(ctx.caller), "role": .string(ctx.role), "method": .string(ctx.methodName),
             "remote": .string(ctx.attributes["remote"] ?? "")]
        }
        if let log {
            r.unexpectedErrorHandler = { method, error, ctx in log.add(method, error, ctx) }
        }
        return r
    }

    static let tester = XMLRPCCallContext(caller: "cu13", role: "tester", attributes: ["remote": "127.0.0.1"])
    static let reader = XMLRPCCallContext(caller: "someone", role: "reader")

    /// Encodes a call, runs it through `handle(body:)`, decodes the response.
    func roundTrip(_ r: XMLRPCMethodRegistry, _ method: String, _ params: [XMLRPCValue],
                   _ ctx: XMLRPCCallContext = tester) async throws -> XMLRPCResponse {
        let body = try XMLRPCRequest(methodName: method, params: params).encoded()
        return try XMLRPCResponse(decoding: await r.handle(body: body, context: ctx))
    }

    func fault(_ r: XMLRPCResponse) -> XMLRPCFault? {
        if case .fault(let f) = r { return f }
        return nil
    }

    @Test func callsSucceed() async throws {
        let r = Self.sampleRegistry()
        #expect(try await roundTrip(r, "math.add", [2, 40]) == .success(42))
        #expect(try await roundTrip(r, "math.mean", [[1, 2.5]]) == .success(1.75))
        #expect(try await roundTrip(r, "text.upper", ["abc"]) == .success("ABC"))
        #expect(try await roundTrip(r, "whoami", []) == .success(["caller": "cu13", "role": "tester", "method": "whoami", "remote": "127.0.0.1"]))
        #expect(try await r.call("math.add", [1, 1], context: Self.reader) == 2)
    }

    @Test func introspection() async throws {
        let r = Self.sampleRegistry()
        let readerMethods: XMLRPCValue = ["math.add", "math.mean", "system.listMethods", "system.methodHelp",
                                          "system.methodSignature", "system.multicall", "text.upper"]
        #expect(try await roundTrip(r, "system.listMethods", [], Self.reader) == .success(readerMethods))
        let all = try await roundTrip(r, "system.listMethods", [], .init(caller: "root", role: "admin")).get()
        #expect(all.arrayValue?.count == r.methodNames.count)
        #expect(r.methodNames(callableBy: "tester").contains("fail.app"))
        #expect(try await roundTrip(r, "system.methodHelp", ["math.add"]) == .success("Adds two integers."))
        #expect(try await roundTrip(r, "system.methodHelp", ["system.multicall"]).get().stringValue?.contains("faultCode") == true)
        #expect(try await roundTrip(r, "system.methodSignature", ["whoami"]) == .success([["struct"], ["struct", "any"]]))
        #expect(try await roundTrip(r, "system.methodSignature", ["text.upper"]) == .success("undef"))
        #expect(try await roundTrip(r, "system.methodSignature", ["system.listMethods"]) == .success([["array"]]))
        #expect(fault(try await roundTrip(r, "system.methodHelp", ["nope"]))?.code == -32601)
        #expect(fault(try await roundTrip(r, "system.methodHelp", ["admin.reset"], Self.reader))?.code == -32001)
        #expect(fault(try await roundTrip(r, "system.listMethods", [1]))?.code == -32602)
    }

    @Test func unknownMethodWrongParamsAndRoleRefusal() async throws {
        let r = Self.sampleRegistry()
        #expect(fault(try await roundTrip(r, "no.such", [])) == .init(code: -32601, string: "no method named 'no.such'; system.listMethods lists them"))
        #expect(fault(try await roundTrip(r, "math.add", [1])) == .init(code: -32602, string: "wrong parameters for 'math.add': expected (int, int), got (int)"))
        #expect(fault(try await roundTrip(r, "math.add", [1, 2.0]))?.code == -32602)
        #expect(fault(try await roundTrip(r, "math.add", [1, 2, 3]))?.code == -32602)
        #expect(fault(try await roundTrip(r, "whoami", [1, 2])) == .init(code: -32602, string: "wrong parameters for 'whoami': expected () or (any), got (int, int)"))
        // Handlers without a signature check their parameters with the helpers.
        #expect(fault(try await roundTrip(r, "text.upper", [1])) == .init(code: -32602, string: "parameter 1 should be string, got int"))
        #expect(fault(try await roundTrip(r, "math.mean", [["x"]]))?.code == -32602)
        // An int is accepted where a double is expected.
        var r2 = r
        r2.register("math.half", help: "", signature: .init(.double, .double), access: .anyRole) { _, p in
            .double(try p.parameter(0, as: Double.self) / 2)
        }
        #expect(try await roundTrip(r2, "math.half", [3]) == .success(1.5))
        // Role refusal is a fault that names the role and the method.
        #expect(fault(try await roundTrip(r, "admin.reset", [], Self.reader)) == .init(code: -32001, string: "role 'reader' may not call 'admin.reset'"))
        #expect(try await roundTrip(r, "admin.reset", [], .init(caller: "root", role: "admin")) == .success(true))
        #expect(fault(try await roundTrip(r, "fail.app", [], Self.reader))?.code == -32001)
    }

    @Test func handlerErrorsBecomeFaultsWithoutSecrets() async throws {
        let log = ErrorLog()
        let r = Self.sampleRegistry(log: log)
        #expect(fault(try await roundTrip(r, "fail.app", [])) == .init(code: 1001, string: "fencing token 41 is stale (current 42)"))
        #expect(fault(try await roundTrip(r, "fail.fault", [])) == .init(code: 7, string: "seven"))
        let unexpected = try #require(fault(try await roundTrip(r, "fail.unexpected", [])))
        #expect(unexpected.code == -32603)
        #expect(unexpected.string == "internal error in 'fail.unexpected'; the server log has the details")
        #expect(!unexpected.string.contains("hunter2"))
        #expect(log.all.count == 1)
        #expect(log.all.first?.0 == "fail.unexpected")
        #expect(log.all.first?.1.contains("hunter2") == true)
        #expect(log.all.first?.2 == "cu13")
        // Through `call`, the detail stays available to the server.
        do {
            _ = try await r.call("fail.unexpected", [], context: Self.tester)
            Issue.record("expected a throw")
        } catch {
            #expect(error.code == .internalError)
            #expect(error.detail?.contains("hunter2") == true)
            #expect(!error.fault.string.contains("hunter2"))
        }
        let bad = try #require(fault(try await roundTrip(r, "fail.badResult", [])))
        #expect(bad.code == -32702)
    }

    @Test func malformedBodiesGetFaultResponses() async throws {
        let r = Self.sampleRegistry()
        let cases: [(String, Int)] = [
            ("", -32700), ("not xml", -32700), ("<methodCall>", -32700),
            ("<!DOCTYPE x><methodCall/>", -32700), ("<foo/>", -32600), ("\u{FEFF}", -32700),
        ]
        for (body, code) in cases {
            let resp = try XMLRPCResponse(decoding: await r.handle(body: Array(body.utf8), context: Self.tester))
            #expect(fault(resp)?.code == code, "\(body)")
        }
        var small = r
        small.limits = XMLRPCLimits(maximumBodyBytes: 100)
        let big = try XMLRPCRequest(methodName: "text.upper", params: [.string(String(repeating: "a", count: 200))]).encoded()
        let resp = try XMLRPCResponse(decoding: await small.handle(body: big, context: Self.tester))
        #expect(fault(resp)?.code == -32300)
    }

    @Test func multicall() async throws {
        let r = Self.sampleRegistry()
        let calls: XMLRPCValue = [
            ["methodName": "math.add", "params": [1, 2]],
            ["methodName": "nope", "params": []],
            ["methodName": "system.multicall", "params": [[]]],
            ["methodName": "fail.app", "params": []],
            ["methodName": "whoami"],
            ["params": []],
            "not a struct",
            ["methodName": "math.add", "params": "not an array"],
            ["methodName": "admin.reset", "params": []],
            ["methodName": "fail.badResult", "params": []],
            ["methodName": "system.listMethods", "params": []],
        ]
        let result = try await roundTrip(r, "system.multicall", [calls]).get()
        let items = try #require(result.arrayValue)
        #expect(items.count == 11)
        #expect(items[0] == [3])
        #expect(XMLRPCFault(items[1])?.code == -32601)
        #expect(XMLRPCFault(items[2]) == .init(code: -32600, string: "system.multicall may not be nested"))
        #expect(XMLRPCFault(items[3]) == .init(code: 1001, string: "fencing token 41 is stale (current 42)"))
        #expect(items[4] == [["caller": "cu13", "role": "tester", "method": "whoami", "remote": "127.0.0.1"]])
        #expect(XMLRPCFault(items[5])?.code == -32602)
        #expect(XMLRPCFault(items[6])?.code == -32602)
        #expect(XMLRPCFault(items[7])?.code == -32602)
        #expect(XMLRPCFault(items[8])?.code == -32001)
        #expect(XMLRPCFault(items[9])?.code == -32702)
        #expect(items[10][0]?.arrayValue?.contains("fail.app") == true)
        // The argument itself must be one array.
        #expect(fault(try await roundTrip(r, "system.multicall", []))?.code == -32602)
        #expect(fault(try await roundTrip(r, "system.multicall", [["methodName": "x"]]))?.code == -32602)
        #expect(try await roundTrip(r, "system.multicall", [[]]) == .success([]))
    }

    @Test func handlesConcurrentCalls() async throws {
        let r = Self.sampleRegistry()
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let body = try XMLRPCRequest(methodName: "math.add", params: [.int(i), .int(i)]).encoded()
                    let reply = try XMLRPCResponse(decoding: await r.handle(body: body, context: Self.reader))
                    return try reply.get().intValue ?? -1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == (0..<200).reduce(0) { $0 + 2 * $1 })
    }

    @Test func registeringANameTwiceOrABuiltinTraps() async {
        await #expect(processExitsWith: .failure) {
            var r = XMLRPCMethodRegistry()
            r.register("a", help: "", signatures: [], access: .anyRole) { _, _ in nil }
            r.register("a", help: "", signatures: [], access: .anyRole) { _, _ in nil }
        }
        await #expect(processExitsWith: .failure) {
            var r = XMLRPCMethodRegistry()
            r.register("system.listMethods", help: "", signatures: [], access: .anyRole) { _, _ in nil }
        }
    }
}
