import Foundation
import Testing
@testable import XMLRPC

/// Untrusted bodies: each is refused with the right fault code, quickly, without a crash.
@Suite(.timeLimit(.minutes(2))) struct HostileInputTests {
    static let billionLaughs = """
    <?xml version="1.0"?>
    <!DOCTYPE lolz [
     <!ENTITY lol "lol">
     <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
     <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
     <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
     <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
    ]>
    <methodCall><methodName>&lol9;</methodName></methodCall>
    """

    static let cases: [(String, [UInt8], XMLRPCError.Code, String)] = {
        func s(_ t: String) -> [UInt8] { Array(t.utf8) }
        let valid = "<methodCall><methodName>m</methodName><params><param><value>"
        let end = "</value></param></params></methodCall>"
        return [
            ("billion laughs", s(billionLaughs), .parseError, "<!DOCTYPE"),
            ("external entity", s("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>&e;</methodName></methodCall>"), .parseError, "<!DOCTYPE"),
            ("parameter entity", s("<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://evil/x.dtd\"> %p;]><methodCall/>"), .parseError, "<!DOCTYPE"),
            ("doctype public", s("<!DOCTYPE methodCall PUBLIC \"-//x\" \"http://evil/x.dtd\"><methodCall/>"), .parseError, "<!DOCTYPE"),
            ("doctype inside", s(valid + "<!DOCTYPE x>" + end), .parseError, "<!DOCTYPE"),
            ("entity declaration", s("<!ENTITY e \"x\"><methodCall/>"), .parseError, "<!ENTITY"),
            ("entity declaration inside", s(valid + "<!ENTITY e \"x\">" + end), .parseError, "<!ENTITY"),
            ("bare entity", s(valid + "&foo;" + end), .parseError, "&foo;"),
            ("bare entity in name", s("<methodCall><methodName>&foo;</methodName></methodCall>"), .parseError, "&foo;"),
            ("entity in attribute", s("<methodCall a='&foo;'><methodName>m</methodName></methodCall>"), .parseError, "&foo;"),
            ("lone ampersand", s(valid + "fish & chips" + end), .parseError, "&amp;"),
            ("unterminated reference", s(valid + "&amp" + end), .parseError, "'&'"),
            ("processing instruction", s("<?xml-stylesheet href='x'?><methodCall/>"), .parseError, "processing instructions"),
            ("processing instruction inside", s(valid + "<?php system('id'); ?>" + end), .parseError, "processing instructions"),
            ("late declaration", s("<methodCall><?xml version='1.0'?></methodCall>"), .parseError, "XML declaration"),
            ("CDATA outside root", s("<![CDATA[x]]><methodCall/>"), .parseError, "CDATA"),
            ("other declaration", s("<!ELEMENT x ANY><methodCall/>"), .parseError, "markup declarations"),
            ("truncated", s(valid + "<string>abc"), .parseError, "unexpected end of body inside <string>"),
            ("truncated tag", s(valid + "<stri"), .parseError, "unexpected end of body"),
            ("unterminated comment", s(valid + "<!-- never closed"), .parseError, "unterminated comment"),
            ("unterminated CDATA", s(valid + "<![CDATA[ never closed"), .parseError, "unterminated CDATA"),
            ("mismatched tags", s(valid + "<string>x</int>" + end), .parseError, "</int> does not match <string>"),
            ("end tag first", s("</methodCall>"), .parseError, "end tag"),
            ("two roots", s("<methodCall><methodName>m</methodName></methodCall><methodCall/>"), .parseError, "after the root"),
            ("text after root", s("<methodCall><methodName>m</methodName></methodCall>trailing"), .parseError, "after the root"),
            ("unquoted attribute", s("<methodCall a=1><methodName>m</methodName></methodCall>"), .parseError, "quoted"),
            ("lt in attribute", s("<methodCall a='<'><methodName>m</methodName></methodCall>"), .parseError, "'<'"),
            ("attributes run together", s("<methodCall a='1'b='2'><methodName>m</methodName></methodCall>"), .parseError, "whitespace"),
            ("empty body", [], .parseError, "empty body"),
            ("only whitespace", s(" \n\t "), .parseError, "no root element"),
            ("only a declaration", s("<?xml version='1.0'?>"), .parseError, "no root element"),
            ("bad declaration", s("<?xml version='1.0' encoding='utf-8' foo='x'?><methodCall/>"), .parseError, "malformed XML declaration"),
            ("declaration without version", s("<?xml encoding='utf-8'?><methodCall/>"), .parseError, "malformed XML declaration"),
            ("garbage", s("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), .parseError, "text before the root"),
            ("json", s("{\"method\": \"x\"}"), .parseError, "text before the root"),
            ("lone lt", s("<"), .parseError, "unexpected end of body"),
            ("lt space", s("< methodCall/>"), .parseError, "element name"),
            ("invalid UTF-8", s(valid) + [0xFF, 0xFE] + s(end), .invalidCharacter, "invalid UTF-8"),
            ("overlong UTF-8", s(valid) + [0xC0, 0xAF] + s(end), .invalidCharacter, "invalid UTF-8"),
            ("UTF-8 surrogate", s(valid) + [0xED, 0xA0, 0x80] + s(end), .invalidCharacter, "invalid UTF-8"),
            ("beyond U+10FFFF", s(valid) + [0xF4, 0x90, 0x80, 0x80] + s(end), .invalidCharacter, "invalid UTF-8"),
            ("truncated UTF-8", s(valid) + [0xE6, 0x97] + s(end), .invalidCharacter, "invalid UTF-8"),
            ("raw NUL", s(valid + "a\u{0}b" + end), .invalidCharacter, "U+0000"),
            ("raw control", s(valid + "a\u{1B}b" + end), .invalidCharacter, "U+001B"),
            ("raw U+FFFF", s(valid + "\u{FFFF}" + end), .invalidCharacter, "U+FFFF"),
            ("NUL reference", s(valid + "&#0;" + end), .invalidCharacter, "U+0000"),
            ("control reference", s(valid + "&#x1;" + end), .invalidCharacter, "U+0001"),
            ("surrogate reference", s(valid + "&#xD800;" + end), .invalidCharacter, "U+D800"),
            ("huge reference", s(valid + "&#99999999999999999999;" + end), .invalidCharacter, "U+10FFFF"),
            ("reference beyond Unicode", s(valid + "&#x110000;" + end), .invalidCharacter, "U+10FFFF"),
            ("malformed reference", s(valid + "&#xZZ;" + end), .parseError, "character reference"),
            ("UTF-16 BOM", [0xFF, 0xFE] + Array("<methodCall/>".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }), .unsupportedEncoding, "UTF-16"),
            ("UTF-16 without BOM", Array("<?xml version='1.0'?>".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }), .unsupportedEncoding, "UTF-16"),
            ("declared EBCDIC", s("<?xml version='1.0' encoding='EBCDIC-US'?><methodCall/>"), .unsupportedEncoding, "EBCDIC-US"),
            ("huge int", s(valid + "<int>99999999999999999999999999</int>" + end), .invalidXMLRPC, "out of the 64-bit range"),
            ("huge i4", s(valid + "<i4>" + String(repeating: "9", count: 100_000) + "</i4>" + end), .invalidXMLRPC, "out of the 64-bit range"),
            ("huge double", s(valid + "<double>1e999999</double>" + end), .invalidXMLRPC, "out of the double range"),
            ("long double", s(valid + "<double>" + String(repeating: "1", count: 100_000) + "</double>" + end), .invalidXMLRPC, "out of the double range"),
            ("wrong root", s("<html><body/></html>"), .invalidXMLRPC, "expected <methodCall>, found <html>"),
        ]
    }()

    @Test func eachHostileBodyIsRefusedWithTheRightCode() async {
        let registry = RegistryTests.sampleRegistry()
        for (name, body, code, fragment) in Self.cases {
            let e = decodeError(body)
            #expect(e?.code == code, "\(name): \(e.map(String.init(describing:)) ?? "accepted")")
            #expect(e?.message.contains(fragment) == true, "\(name): \(e?.message ?? "")")
            #expect((e?.message.count ?? 0) < 300, "\(name): message too long")
            // Through the dispatcher: a valid fault response with the same code.
            let reply = await registry.handle(body: body, context: RegistryTests.tester)
            #expect((try? XMLRPCResponse(decoding: reply)) == .fault(.init(code: code.rawValue, string: e?.message ?? "")), "\(name)")
        }
    }

    @Test func deepNestingIsRefusedAtTheLimit() throws {
        // 10 000 nested arrays: refused at depth 64, in linear time.
        let depth = 10_000
        let open = String(repeating: "<array><data><value>", count: depth)
        let close = String(repeating: "</value></data></array>", count: depth)
        let body = "<methodCall><methodName>m</methodName><params><param><value>" + open + close + "</value></param></params></methodCall>"
        let e = try #require(decodeError(body))
        #expect(e.code == .parseError)
        #expect(e.message.hasPrefix("elements are nested deeper than the limit of 64"))
        // 10 000 unclosed elements: the tokenizer stops at the limit.
        let unclosed = Array(String(repeating: "<a>", count: depth).utf8)
        unclosed.withUnsafeBufferPointer { buf in
            var tok = XMLTokenizer(buf, start: 0, maximumDepth: 64)
            var starts = 0
            do throws(XMLRPCError) {
                while case .start = try tok.next() { starts += 1 }
                Issue.record("no error")
            } catch {
                #expect(error.code == .parseError)
                #expect(starts == 64)
            }
        }
        // Exactly at the limit is fine; one more is not.
        func nested(_ levels: Int) -> String {
            var v = "<value><int>1</int></value>"
            for _ in 0..<levels { v = "<value><array><data>" + v + "</data></array></value>" }
            return call(v)
        }
        // methodCall › params › param › value is 4 deep, each array adds 3, the <int> 1:
        // 5 + 3·levels ≤ 64  ⇔  levels ≤ 19.
        #expect(decodeError(nested(19)) == nil)
        #expect(decodeError(nested(20))?.code == .parseError)
        // A configured limit applies.
        #expect(decodeError(nested(1), limits: .init(maximumDepth: 10)) == nil)
        #expect(decodeError(nested(2), limits: .init(maximumDepth: 10))?.code == .parseError)
    }

    @Test func bodySizeLimit() throws {
        let body = try XMLRPCRequest(methodName: "m", params: [.string(String(repeating: "x", count: 1000))]).encoded()
        #expect(decodeError(body, limits: .init(maximumBodyBytes: body.count)) == nil)
        let e = try #require(decodeError(body, limits: .init(maximumBodyBytes: body.count - 1)))
        #expect(e.code == .transportError)
        #expect(e.message == "request body of \(body.count) bytes exceeds the limit of \(body.count - 1) bytes")
        #expect(XMLRPCLimits.default.maximumBodyBytes == 16 << 20)
        #expect(XMLRPCLimits.default.maximumDepth == 64)
        #expect(XMLRPCLimits(maximumDepth: 1_000_000).maximumDepth == 1024)
    }

    @Test func everyTruncationOfAValidBodyIsRefused() throws {
        let body = try XMLRPCRequest(methodName: "wsa.test", params: [Samples.nested, "Ω 日本"]).encoded()
        let end = body.count - 1  // the trailing newline is optional
        for n in 0..<end {
            let e = decodeError(Array(body[..<n]))
            #expect(e != nil, "prefix of \(n) bytes accepted")
            #expect(e?.code == .parseError || e?.code == .invalidCharacter, "prefix \(n): \(String(describing: e))")
        }
        #expect(decodeError(Array(body[..<end])) == nil)
    }

    @Test func pathologicalButLegalInputsStayLinear() throws {
        // Many references, comments and CDATA sections; a long run of whitespace; a huge comment.
        let refs = String(repeating: "&amp;&#x41;&lt;", count: 100_000)
        #expect(try single("<value>" + refs + "</value>").stringValue?.count == 300_000)
        let chunks = String(repeating: "a<!--c--><![CDATA[b]]>", count: 50_000)
        #expect(try single("<value><string>" + chunks + "</string></value>").stringValue?.count == 100_000)
        let spaces = String(repeating: " ", count: 1_000_000)
        #expect(try single("<value>" + spaces + "<int>1</int>" + spaces + "</value>") == 1)
        let comment = "<!--" + String(repeating: "-", count: 1_000_000) + "-->"
        #expect(try request(comment + "<methodCall>" + comment + "<methodName>m</methodName>" + comment + "</methodCall>" + comment).methodName == "m")
        // A struct with many duplicate names keeps the last.
        let members = (0..<50_000).map { "<member><name>k</name><value><int>\($0)</int></value></member>" }.joined()
        #expect(try single("<value><struct>" + members + "</struct></value>") == ["k": 49_999])
    }
}
