import Foundation
import Testing
import TestSupport
@testable import XMLRPC

/// Interoperability with Python's standard `xmlrpc.client` (Debian's /usr/bin/python3).
@Suite struct PythonInteropTests {
    static let dt = Samples.dt

    /// Python encodes calls with `dumps(..., allow_none=True)`; we decode them.
    @Test func weDecodeWhatPythonSends() throws {
        let out = try Py.run("""
        cases = [
            ("int", (0, 1, -1, 2**31 - 1, -2**31)),
            ("bool", (True, False)),
            ("str", ("", "hello", "<&>\\"' ]]>", "Ω≈ç√∫ 𝄞 日本語 👩‍🔬", " \\t\\n lead and trail ", "\\x7f\\x85")),
            ("cr", ("a\\r\\nb\\rc",)),
            ("float", (0.1, 1e300, -0.0, 5e-324, 1.7976931348623157e308, math.pi, float("inf"), float("-inf"), 100.0)),
            ("nan", (float("nan"),)),
            ("none", (None, [None], {"k": None})),
            ("bytes", (b"", bytes(range(256)), c.Binary(b"\\x00\\xff" * 100))),
            ("datetime", (datetime.datetime(2005, 10, 12, 10, 11, 12), c.DateTime("20051012T10:11:12"),
                          datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59),
                          datetime.datetime(2005, 10, 12, 10, 11, 12, 999999))),
            ("dict", ({"a": 1, "b": [1, "two", 3.0], "nested": {"x": {"y": None}}, "": "empty key",
                       "ключ & <key>": "значение"},)),
            ("list", ([], [[]], [1, [2, [3, [4, [5]]]]], list(range(100)), (1, "tuple"))),
            ("mixed", ({"faultCode": 4}, [True, 1, 1.0, "1"])),
            ("noparams", ()),
        ]
        for name, params in cases:
            body = c.dumps(params, methodname="test." + name, allow_none=True)
            print(name, b64(body))
        print("latin1", base64.b64encode(c.dumps(("café ÿ",), methodname="test.latin1",
              encoding="iso-8859-1").encode("iso-8859-1")).decode())
        """)
        let dt = Self.dt
        let expected: [String: [XMLRPCValue]] = [
            "int": [0, 1, -1, 2_147_483_647, -2_147_483_648],
            "bool": [true, false],
            "str": ["", "hello", "<&>\"' ]]>", "Ω≈ç√∫ 𝄞 日本語 👩‍🔬", " \t\n lead and trail ", "\u{7F}\u{85}"],
            // Python writes a CR raw; XML line-end normalisation turns it into LF (Python's own
            // parser does the same).
            "cr": ["a\nb\nc"],
            "float": [0.1, 1e300, -0.0, .double(.leastNonzeroMagnitude), .double(.greatestFiniteMagnitude), .double(.pi),
                      .double(.infinity), .double(-.infinity), 100.0],
            "none": [nil, [nil], ["k": nil]],
            "bytes": [.base64([]), .base64((0...255).map(UInt8.init)), .base64(Array(repeating: [0, 0xFF], count: 100).flatMap { $0 })],
            "datetime": [.dateTime(dt), .dateTime(dt), .dateTime(XMLRPCDateTime(year: 1, month: 1, day: 1)!),
                         .dateTime(XMLRPCDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)!),
                         .dateTime(dt)],
            "dict": [["a": 1, "b": [1, "two", 3.0], "nested": ["x": ["y": nil]], "": "empty key", "ключ & <key>": "значение"]],
            "list": [[], [[]], [1, [2, [3, [4, [5]]]]], .array((0..<100).map { .int($0) }), [1, "tuple"]],
            "mixed": [["faultCode": 4], [true, 1, 1.0, "1"]],
            "noparams": [],
            "latin1": ["café ÿ"],
        ]
        var seen = Set<String>()
        for line in out {
            let parts = line.split(separator: " ")
            let name = String(parts[0])
            let req = try XMLRPCRequest(decoding: unbase64(parts[1]))
            #expect(req.methodName == "test." + name)
            seen.insert(name)
            if name == "nan" {
                #expect(req.params.count == 1 && req.params[0].doubleValue?.isNaN == true)
                continue
            }
            #expect(req.params == expected[name], "\(name)")
            if name == "float" { #expect(req.params[2].doubleValue?.sign == .minus) }
        }
        #expect(seen == Set(expected.keys).union(["nan"]))
    }

    /// We encode responses and faults; Python's `loads(use_builtin_types=True)` decodes them and
    /// compares with its own literals, types included.
    @Test func pythonDecodesWhatWeSend() throws {
        let big: [XMLRPCValue] = [.int(1 << 40), .int(Int.max), .int(Int.min), 2_147_483_648, -2_147_483_649]
        let values: [(String, XMLRPCResponse)] = [
            ("int0", .success(0)), ("int32max", .success(2_147_483_647)), ("int32min", .success(-2_147_483_648)),
            ("bigints", .success(.array(big))),
            ("true", .success(true)), ("false", .success(false)),
            ("empty", .success("")), ("unicode", .success("Ω≈ç√∫ 𝄞 日本語 👩‍🔬")), ("markup", .success("<&>\"' ]]> &amp;")),
            ("cr", .success("a\r\nb\rc")), ("ws", .success(" \t\n ")),
            ("d01", .success(0.1)), ("d1e300", .success(1e300)), ("negzero", .success(-0.0)),
            ("tiny", .success(.double(.leastNonzeroMagnitude))), ("inf", .success(.double(.infinity))),
            ("ninf", .success(.double(-.infinity))), ("nan", .success(.double(.nan))), ("hundred", .success(100.0)),
            ("dt", .success(.dateTime(Self.dt))), ("dtmin", .success(.dateTime(XMLRPCDateTime(year: 1, month: 1, day: 1)!))),
            ("bytes", .success(.base64((0...255).map(UInt8.init)))), ("nobytes", .success(.base64([]))),
            ("none", .success(nil)),
            ("struct", .success(["a": 1, "b": [1, "two", 3.0], "nested": ["x": ["y": nil]], "": "empty key",
                                 "ключ & <key>": "значение"])),
            ("array", .success([[], [[]], [1, [2, [3]]], ["k": [:]]])),
            ("fault", .fault(XMLRPCFault(XMLRPCError(.methodNotFound, "no method named 'x'")))),
            ("appfault", .fault(.init(code: 1001, string: "fencing token 41 is stale (current 42) <&>"))),
            ("ctlfault", .fault(.init(code: -32603, string: "bad \u{1} char"))),
        ]
        let input = try values.map { name, r in "\(name) \(base64(try r.encoded()))" }
        let out = try Py.run("""
        inf = float("inf")
        expected = {
            "int0": 0, "int32max": 2**31 - 1, "int32min": -2**31,
            "bigints": [2**40, 2**63 - 1, -2**63, 2**31, -2**31 - 1],
            "true": True, "false": False,
            "empty": "", "unicode": "Ω≈ç√∫ 𝄞 日本語 👩‍🔬", "markup": "<&>\\"' ]]> &amp;",
            "cr": "a\\r\\nb\\rc", "ws": " \\t\\n ",
            "d01": 0.1, "d1e300": 1e300, "negzero": -0.0, "tiny": 5e-324, "inf": inf, "ninf": -inf,
            "nan": float("nan"), "hundred": 100.0,
            "dt": datetime.datetime(2005, 10, 12, 10, 11, 12), "dtmin": datetime.datetime(1, 1, 1),
            "bytes": bytes(range(256)), "nobytes": b"", "none": None,
            "struct": {"a": 1, "b": [1, "two", 3.0], "nested": {"x": {"y": None}}, "": "empty key",
                       "ключ & <key>": "значение"},
            "array": [[], [[]], [1, [2, [3]]], {"k": {}}],
            "fault": (-32601, "no method named 'x'"),
            "appfault": (1001, "fencing token 41 is stale (current 42) <&>"),
            "ctlfault": (-32603, "bad \\ufffd char"),
        }
        for line in lines():
            name, body = line.split(" ")
            body = unb64(body)
            try:
                (result,), method = c.loads(body, use_builtin_types=True)
                assert method is None
                ok = same(result, expected[name])
                print(("ok " if ok else "FAIL ") + name + ("" if ok else " got " + repr(result)))
            except c.Fault as f:
                ok = (f.faultCode, f.faultString) == expected[name]
                print(("ok " if ok else "FAIL ") + name + ("" if ok else " got " + repr(f)))
            # The legacy wrappers (no use_builtin_types) read it too.
            try:
                c.loads(body)
            except c.Fault:
                pass
        """, input: input)
        #expect(out.count == values.count)
        for line in out { #expect(line.hasPrefix("ok "), "\(line)") }
    }

    /// Requests we encode (our DbHandler's side) read back in Python with the same values.
    @Test func pythonDecodesOurRequests() throws {
        let req = XMLRPCRequest(methodName: "wsa.loadTransactionData",
                                params: ["9f86d081884c7d659a2feaa0c55ad015", 41, ["rows": .int(1 << 33), "when": .dateTime(Self.dt)], nil, .base64([0, 1])])
        let out = try Py.run("""
        params, method = c.loads(unb64(lines()[0]), use_builtin_types=True)
        want = ("9f86d081884c7d659a2feaa0c55ad015", 41, {"rows": 2**33, "when": datetime.datetime(2005, 10, 12, 10, 11, 12)}, None, b"\\x00\\x01")
        print(method, same(params, want))
        """, input: [base64(try req.encoded())])
        #expect(out == ["wsa.loadTransactionData True"])
    }

    /// Python builds a `system.multicall` exactly as `xmlrpc.client.MultiCall` does; our
    /// registry answers; Python's `MultiCallIterator` unpacks results and raises faults.
    @Test func multicallShapesMatchPython() async throws {
        let registry = RegistryTests.sampleRegistry()
        let requests = try Py.run("""
        class Capture:
            # Stands in for a ServerProxy: records the call MultiCall makes.
            def __init__(self): self.body = None
            def __getattr__(self, name):
                outer = self
                class Method:
                    def __init__(self, name): self.name = name
                    def __getattr__(self, sub): return Method(self.name + "." + sub)
                    def __call__(self, *args):
                        outer.body = c.dumps(args, methodname=self.name, allow_none=True)
                        return []
                return Method(name)
        cap = Capture()
        mc = c.MultiCall(cap)
        mc.math.add(1, 2)
        mc.no.such.method()
        mc.math.add("x", 2)
        mc.system.multicall([])
        mc.text.upper("abc")
        mc.admin.reset()
        mc.math.add(2**31 - 1, 1)
        mc()
        print(b64(cap.body))
        """)
        let response = await registry.handle(body: unbase64(requests[0]), context: .init(caller: "u", role: "reader"))
        let out = try Py.run("""
        (results,), _ = c.loads(unb64(lines()[0]))
        it = c.MultiCallIterator(results)
        for i in range(len(results)):
            try:
                print("value", repr(it[i]))
            except c.Fault as f:
                print("fault", f.faultCode, f.faultString)
        """, input: [base64(response)])
        #expect(out == [
            "value 3",
            "fault -32601 no method named 'no.such.method'; system.listMethods lists them",
            "fault -32602 wrong parameters for 'math.add': expected (int, int), got (string, int)",
            "fault -32600 system.multicall may not be nested",
            "value 'ABC'",
            "fault -32001 role 'reader' may not call 'admin.reset'",
            "value 2147483648",
        ])
    }

    /// Python encodes introspection calls; the registry answers; Python decodes the answers.
    @Test func introspectionFromPython() async throws {
        let registry = RegistryTests.sampleRegistry()
        let calls = try Py.run("""
        for name, args in [("system.listMethods", ()), ("system.methodHelp", ("math.add",)),
                           ("system.methodSignature", ("math.add",)), ("system.methodSignature", ("text.upper",)),
                           ("system.methodHelp", ("admin.reset",)), ("system.methodHelp", ()),
                           ("math.add", (2, 3)), ("math.mean", ([1, 2.5],))]:
            print(b64(c.dumps(args, methodname=name)))
        """)
        var responses: [String] = []
        for b in calls {
            responses.append(base64(await registry.handle(body: unbase64(b), context: .init(caller: "u", role: "reader"))))
        }
        let out = try Py.run("""
        for line in lines():
            try:
                (r,), _ = c.loads(unb64(line))
                print(repr(r))
            except c.Fault as f:
                print("fault", f.faultCode, f.faultString)
        """, input: responses)
        #expect(out == [
            "['math.add', 'math.mean', 'system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall', 'text.upper']",
            "'Adds two integers.'",
            "[['int', 'int', 'int']]",
            "'undef'",
            "fault -32001 role 'reader' may not call 'admin.reset'",
            "fault -32602 wrong parameters for 'system.methodHelp': expected (string), got ()",
            "5",
            "1.75",
        ])
    }
}
