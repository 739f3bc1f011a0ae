import Foundation
import Testing
import TestSupport
@testable import XMLRPC

/// Decodes a request from a string body.
func request(_ body: String, limits: XMLRPCLimits = .default) throws(XMLRPCError) -> XMLRPCRequest {
    try XMLRPCRequest(decoding: Array(body.utf8), limits: limits)
}

/// Wraps values as the params of a call to `m`.
func call(_ valuesXML: String, method: String = "m") -> String {
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>\(method)</methodName>\n<params>\n"
        + valuesXML.split(separator: "\u{1}").map { "<param>\n\($0)\n</param>\n" }.joined()
        + "</params>\n</methodCall>\n"
}

/// The single parameter of a call whose body holds one `<value>`.
func single(_ valueXML: String) throws(XMLRPCError) -> XMLRPCValue {
    let r = try request(call(valueXML))
    guard r.params.count == 1 else { throw XMLRPCError(.invalidXMLRPC, "expected one param") }
    return r.params[0]
}

/// The error decoding `body` throws, or nil when it decodes.
func decodeError(_ body: [UInt8], limits: XMLRPCLimits = .default) -> XMLRPCError? {
    do throws(XMLRPCError) {
        _ = try XMLRPCRequest(decoding: body, limits: limits)
        return nil
    } catch {
        return error
    }
}

func decodeError(_ body: String, limits: XMLRPCLimits = .default) -> XMLRPCError? {
    decodeError(Array(body.utf8), limits: limits)
}

/// Python helpers: bodies travel through files (base64 lines) to stay clear of argv limits.
enum Py {
    /// Runs `script` with a scratch directory as `sys.argv[1]`, after writing `input` lines to
    /// `in.txt` there; returns stdout lines.
    static func run(_ script: String, input: [String] = []) throws -> [String] {
        let dir = try TestEnvironment.temporaryDirectory("xmlrpc")
        defer { try? FileManager.default.removeItem(at: dir) }
        try (input.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
        let out = try runPython(prelude + script, [dir.path])
        return out.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static let prelude = """
    import base64, datetime, math, sys, os
    import xmlrpc.client as c
    def lines():
        with open(os.path.join(sys.argv[1], 'in.txt')) as f:
            return [l.rstrip('\\n') for l in f if l.strip()]
    def b64(b):
        return base64.b64encode(b if isinstance(b, bytes) else b.encode('utf-8')).decode()
    def unb64(s):
        return base64.b64decode(s)
    def same(a, b):
        if type(a) is not type(b):
            return False
        if isinstance(a, float):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return a == b and math.copysign(1, a) == math.copysign(1, b)
        if isinstance(a, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return a == b

    """
}

func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
func unbase64(_ s: some StringProtocol) -> [UInt8] { Array(Data(base64Encoded: String(s))!) }
