import Foundation
import Testing
import TestSupport
@testable import XMLRPC
import SystemSupport

/// Values of every type, nested and at the edges, used by the round-trip tests.
enum Samples {
    static let dt = XMLRPCDateTime(year: 2005, month: 10, day: 12, hour: 10, minute: 11, second: 12)!

    static let scalars: [XMLRPCValue] = [
        0, 1, -1, 2_147_483_647, -2_147_483_648, 2_147_483_648, -2_147_483_649, .int(Int.max), .int(Int.min),
        true, false,
        "", "hello", "Ω≈ç√∫ 𝄞 日本語 👩‍🔬", "<&>\"' ]]> &amp;", "a\r\nb\rc", " \t\n ", "\u{7F}\u{85}\u{FFFD}",
        0.1, 1e300, -1e-300, .double(.leastNonzeroMagnitude), .double(Double.greatestFiniteMagnitude), .double(.pi), 100.0, -0.0,
        .double(.infinity), .double(-.infinity), 123456789012345680.0,
        .dateTime(dt), .dateTime(XMLRPCDateTime(year: 1, month: 1, day: 1)!),
        .dateTime(XMLRPCDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)!),
        .base64([]), .base64([0]), .base64([0, 1]), .base64([0, 1, 2]), .base64((0...255).map(UInt8.init)),
        .nil,
    ]

    static var nested: XMLRPCValue {
        var deep: XMLRPCValue = ["leaf": .base64([0xFF, 0x00])]
        for i in 0..<15 { deep = i % 2 == 0 ? [deep, .int(i)] : ["level \(i)": deep] }
        return [
            "scalars": .array(scalars),
            "empty struct": [:],
            "empty array": [],
            "": "empty key",
            "ключ & <key>": "значение",
            "deep": deep,
            "nils": [nil, [nil], ["x": nil]],
        ]
    }
}

@Suite struct CodecTests {
    func roundTrip(_ v: XMLRPCValue) throws {
        let req = XMLRPCRequest(methodName: "test.roundTrip", params: [v, v])
        let back = try XMLRPCRequest(decoding: req.encoded())
        #expect(back == req, "request \(v)")
        let resp = XMLRPCResponse.success(v)
        #expect(try XMLRPCResponse(decoding: resp.encoded()) == resp, "response \(v)")
    }

    @Test func everyScalarRoundTrips() throws {
        for v in Samples.scalars { try roundTrip(v) }
    }

    @Test func nestedStructsAndArraysRoundTrip() throws {
        try roundTrip(Samples.nested)
        try roundTrip(.array([Samples.nested, Samples.nested]))
    }

    @Test func doublesRoundTripExactly() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            let back = try XMLRPCResponse(decoding: XMLRPCResponse.success(.double(d)).encoded())
            guard case .success(.double(let e)) = back else { Issue.record("not a double"); return }
            #expect(e.bitPattern == d.bitPattern, "\(d)")
        }
        // -0.0 keeps its sign, NaN stays NaN.
        guard case .success(.double(let z)) = try XMLRPCResponse(decoding: XMLRPCResponse.success(.double(-0.0)).encoded())
        else { Issue.record("not a double"); return }
        #expect(z.sign == .minus)
        guard case .success(.double(let n)) = try XMLRPCResponse(decoding: XMLRPCResponse.success(.double(.nan)).encoded())
        else { Issue.record("not a double"); return }
        #expect(n.isNaN)
    }

    @Test func encodingIsCompactDeterministicAndEscaped() throws {
        let req = XMLRPCRequest(methodName: "a.b", params: [
            .int(1), .int(1 << 40), "x<&>\r\n\t", ["b": 1, "a": 2], .base64([1, 2, 3]), .dateTime(Samples.dt), 0.1, nil, true,
        ])
        let text = String(decoding: try req.encoded(), as: UTF8.self)
        #expect(text == """
        <?xml version="1.0" encoding="UTF-8"?>
        <methodCall><methodName>a.b</methodName><params>\
        <param><value><int>1</int></value></param>\
        <param><value><i8>1099511627776</i8></value></param>\
        <param><value><string>x&lt;&amp;&gt;&#13;\n\t</string></value></param>\
        <param><value><struct><member><name>a</name><value><int>2</int></value></member>\
        <member><name>b</name><value><int>1</int></value></member></struct></value></param>\
        <param><value><base64>AQID</base64></value></param>\
        <param><value><dateTime.iso8601>20051012T10:11:12</dateTime.iso8601></value></param>\
        <param><value><double>0.1</double></value></param>\
        <param><value><nil/></value></param>\
        <param><value><boolean>1</boolean></value></param>\
        </params></methodCall>

        """)
        #expect(try req.encoded() == req.encoded())
        let fault = String(decoding: try XMLRPCResponse.fault(.init(code: -32601, string: "no <such> method")).encoded(), as: UTF8.self)
        #expect(fault == """
        <?xml version="1.0" encoding="UTF-8"?>
        <methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-32601</int></value></member>\
        <member><name>faultString</name><value><string>no &lt;such&gt; method</string></value></member></struct></value></fault></methodResponse>

        """)
    }

    @Test func doublesUseShortestText() throws {
        let cases: [(Double, String)] = [(0.1, "0.1"), (1e300, "1e+300"), (100, "100.0"), (-0.0, "-0.0"),
                                         (.leastNonzeroMagnitude, "5e-324"), (.infinity, "inf"), (-.infinity, "-inf"), (.nan, "nan")]
        for (d, text) in cases {
            let body = String(decoding: try XMLRPCResponse.success(.double(d)).encoded(), as: UTF8.self)
            #expect(body.contains("<double>\(text)</double>"), "\(d)")
        }
    }

    @Test func charactersXMLCannotCarryAreRefusedInResultsAndReplacedInFaults() throws {
        for bad in ["\u{0}", "a\u{1}b", "\u{B}", "\u{C}", "\u{1F}", "\u{FFFE}", "x\u{FFFF}"] {
            let e = #expect(throws: XMLRPCError.self) { try XMLRPCResponse.success(.string(bad)).encoded() }
            #expect(e?.code == .invalidCharacter)
            #expect(e?.message.contains("base64") == true)
            #expect(throws: XMLRPCError.self) { try XMLRPCRequest(methodName: "m", params: [["k": .string(bad)]]).encoded() }
            #expect(throws: XMLRPCError.self) { try XMLRPCRequest(methodName: "m", params: [.struct([bad: 1])]).encoded() }
            #expect(throws: XMLRPCError.self) { try XMLRPCValue.string(bad).checkEncodable() }
            let fault = XMLRPCResponse.fault(.init(code: 1, string: "bad \(bad) char"))
            let back = try XMLRPCResponse(decoding: fault.encoded())
            let replaced = String(String.UnicodeScalarView(bad.unicodeScalars.map {
                XMLBytes.isXMLChar($0.value) ? $0 : "\u{FFFD}"
            }))
            #expect(back == .fault(.init(code: 1, string: "bad \(replaced) char")))
        }
        // A success that cannot be encoded turns into the fault that says why.
        let body = XMLRPCResponse.success("\u{1}").encodedOrFault()
        guard case .fault(let f) = try XMLRPCResponse(decoding: body) else { Issue.record("expected a fault"); return }
        #expect(f.code == -32702)
    }

    @Test func readsEveryWireFormOfEachType() throws {
        let cases: [(String, XMLRPCValue)] = [
            ("<value>bare text</value>", "bare text"),
            ("<value></value>", ""),
            ("<value/>", ""),
            ("<value><string/></value>", ""),
            ("<value><string></string></value>", ""),
            ("<value>  <string> padded </string>\n</value>", " padded "),
            ("<value>  spaced  </value>", "  spaced  "),
            ("<value><int> 42 </int></value>", 42),
            ("<value><int>+42</int></value>", 42),
            ("<value><i4>-7</i4></value>", -7),
            ("<value><i8>9223372036854775807</i8></value>", .int(Int.max)),
            ("<value><i8>-9223372036854775808</i8></value>", .int(Int.min)),
            ("<value><ex:i8 xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'>5</ex:i8></value>", 5),
            ("<value><i1>1</i1></value>", 1),
            ("<value><i2>2</i2></value>", 2),
            ("<value><biginteger>3</biginteger></value>", 3),
            ("<value><boolean>1</boolean></value>", true),
            ("<value><boolean>0</boolean></value>", false),
            ("<value><boolean> true </boolean></value>", true),
            ("<value><double>1.5</double></value>", 1.5),
            ("<value><double>-.5</double></value>", -0.5),
            ("<value><double>1.</double></value>", 1.0),
            ("<value><double>1E3</double></value>", 1000.0),
            ("<value><double>+1e-3</double></value>", 0.001),
            ("<value><double>-Infinity</double></value>", .double(-.infinity)),
            ("<value><float>2</float></value>", 2.0),
            ("<value><double>1e-400</double></value>", 0.0),
            ("<value><dateTime.iso8601>20051012T10:11:12</dateTime.iso8601></value>", .dateTime(Samples.dt)),
            ("<value><dateTime.iso8601> 2005-10-12T10:11:12Z </dateTime.iso8601></value>", .dateTime(Samples.dt)),
            ("<value><base64>\nAAEC\nAw==\n</base64></value>", .base64([0, 1, 2, 3])),
            ("<value><base64>AAECAw</base64></value>", .base64([0, 1, 2, 3])),
            ("<value><base64></base64></value>", .base64([])),
            ("<value><nil/></value>", nil),
            ("<value><nil></nil></value>", nil),
            ("<value><ex:nil/></value>", nil),
            ("<value><struct></struct></value>", [:]),
            ("<value><struct><member><value>v</value><name>k</name></member></struct></value>", ["k": "v"]),
            ("<value><struct><member><name>k</name><value>1</value></member><member><name>k</name><value>2</value></member></struct></value>", ["k": "2"]),
            ("<value><struct><member><name> k </name><value><int>1</int></value></member></struct></value>", [" k ": 1]),
            ("<value><array><data></data></array></value>", []),
            ("<value><array><data/></array></value>", []),
            ("<value><array></array></value>", []),
            ("<value><array><value>a</value><value><int>1</int></value></array></value>", ["a", 1]),
            ("<value><array>\n<data>\n<value><array><data><value>x</value></data></array></value>\n</data>\n</array></value>", [["x"]]),
        ]
        for (xml, expected) in cases {
            let got = try single(xml)
            #expect(got == expected, "\(xml)")
        }
    }

    @Test func xmlFeaturesTheTokenizerHandles() throws {
        // Comments, CDATA, predefined entities, character references, attributes, line ends.
        let r = try request("""
        \u{FEFF}<?xml version="1.0" encoding="utf-8" standalone="yes" ?>
        <!-- a comment before the root -->
        <methodCall xmlns:ex="urn:x" id='1'>
          <!-- a comment -->
          <methodName>
            wsa.test
          </methodName>
          <params><param><value><string>a<!-- c -->b<![CDATA[<c & d>]]>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&#13;</string></value></param>
          <param><value>line1\r\nline2\rline3<![CDATA[\r\n]]></value></param>
          <param><value><string attr="&amp;&#38;">&#9;&#10;</string></value></param>
          </params >
        </methodCall >
        <!-- a comment after the root -->

        """)
        #expect(r.methodName == "wsa.test")
        #expect(r.params == ["ab<c & d><>&\"'AB😀\r", "line1\nline2\nline3\n", "\t\n"])
    }

    @Test func declarationsAndEncodings() throws {
        #expect(try request("<methodCall><methodName>m</methodName></methodCall>").params == [])
        #expect(try request("  \n<?xml version='1.0'?><methodCall><methodName>m</methodName><params/></methodCall>").methodName == "m")
        #expect(try request("<?xml version=\"1.0\" encoding=\"US-ASCII\"?><methodCall><methodName>m</methodName></methodCall>").methodName == "m")
        // ISO-8859-1 is transcoded.
        var latin1 = Array("<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>m</methodName><params><param><value>caf".utf8)
        latin1 += [0xE9, 0xFF]
        latin1 += Array("</value></param></params></methodCall>".utf8)
        #expect(try XMLRPCRequest(decoding: latin1).params == ["café\u{FF}"])
        // Data, slices and non-contiguous collections decode too.
        let body = try XMLRPCRequest(methodName: "m", params: ["x"]).encoded()
        #expect(try XMLRPCRequest(decoding: Data(body)).params == ["x"])
        #expect(try XMLRPCRequest(decoding: body[...]).params == ["x"])
        #expect(try XMLRPCRequest(decoding: body.lazy.map { $0 }).params == ["x"])
    }

    @Test func responsesAndFaultsDecode() throws {
        let ok = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>7</int></value>\n</param>\n</params>\n</methodResponse>\n"
        #expect(try XMLRPCResponse(decoding: Array(ok.utf8)) == .success(7))
        #expect(try XMLRPCResponse(decoding: Array(ok.utf8)).get() == 7)
        let fault = """
        <?xml version='1.0'?>
        <methodResponse>
        <fault>
        <value><struct>
        <member>
        <name>faultCode</name>
        <value><int>4</int></value>
        </member>
        <member>
        <name>faultString</name>
        <value><string>Too many parameters.</string></value>
        </member>
        </struct></value>
        </fault>
        </methodResponse>
        """
        let r = try XMLRPCResponse(decoding: Array(fault.utf8))
        #expect(r == .fault(.init(code: 4, string: "Too many parameters.")))
        #expect(throws: XMLRPCFault(code: 4, string: "Too many parameters.")) { try r.get() }
        let bad: [String] = [
            "<methodResponse><params></params></methodResponse>",
            "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>",
            "<methodResponse></methodResponse>",
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member></struct></value></fault></methodResponse>",
            "<methodResponse><fault><value><int>1</int></value><value><int>1</int></value></fault></methodResponse>",
            "<methodCall><methodName>m</methodName></methodCall>",
        ]
        for b in bad {
            let e = #expect(throws: XMLRPCError.self) { try XMLRPCResponse(decoding: Array(b.utf8)) }
            #expect(e?.code == .invalidXMLRPC, "\(b)")
        }
    }

    @Test func notXMLRPCIsInvalidXMLRPC() {
        let cases = [
            "<foo/>",
            "<methodCall></methodCall>",
            "<methodCall><methodName> </methodName></methodCall>",
            "<methodCall><params/><methodName>m</methodName></methodCall>",
            "<methodCall><methodName>m</methodName><methodName>m</methodName></methodCall>",
            "<methodCall><methodName>m<b/></methodName></methodCall>",
            "<methodCall><methodName>m</methodName>text</methodCall>",
            "<methodCall><methodName>m</methodName><extra/></methodCall>",
            call("<value><bigdecimal>1</bigdecimal></value>"),
            call("<value><int>1</int><int>2</int></value>"),
            call("<value>text<int>1</int></value>"),
            call("<value><int>1</int>text</value>"),
            call("<value><int>1.5</int></value>"),
            call("<value><int></int></value>"),
            call("<value><int>1_000</int></value>"),
            call("<value><int>9223372036854775808</int></value>"),
            call("<value><boolean>2</boolean></value>"),
            call("<value><double>1e999</double></value>"),
            call("<value><double>0x1p3</double></value>"),
            call("<value><double>1e</double></value>"),
            call("<value><double>.</double></value>"),
            call("<value><dateTime.iso8601>20050230T10:11:12</dateTime.iso8601></value>"),
            call("<value><base64>A===</base64></value>"),
            call("<value><base64>AB=C</base64></value>"),
            call("<value><base64>AB*C</base64></value>"),
            call("<value><nil>x</nil></value>"),
            call("<value><struct><member><name>k</name></member></struct></value>"),
            call("<value><struct><value>v</value></struct></value>"),
            call("<value><array><data><int>1</int></data></array></value>"),
            "<methodCall><methodName>m</methodName><params><value>1</value></params></methodCall>",
            "<methodCall><methodName>m</methodName><params><param></param></params></methodCall>",
        ]
        for c in cases {
            #expect(decodeError(c)?.code == .invalidXMLRPC, "\(c)")
        }
    }

    @Test func errorsSayWhere() {
        let e = decodeError("<methodCall>\n<methodName>m</methodName>\n<params><param><value><int>x</int></value></param></params></methodCall>")
        #expect(e?.message == "malformed <int> value 'x' (line 3, column 35)")
    }
}
