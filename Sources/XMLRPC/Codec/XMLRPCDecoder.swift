/// Reads XML-RPC documents from tokenizer events (recursive descent; recursion depth is
/// bounded by the tokenizer's nesting limit).
struct XMLRPCDecoder {
    private var tok: XMLTokenizer

    private init(_ tok: XMLTokenizer) { self.tok = tok }

    /// Runs `parse` over a prepared body: size, encoding and character checks first.
    static func decode<R>(_ bytes: some Collection<UInt8>, limits: XMLRPCLimits,
                          _ parse: (inout XMLRPCDecoder) throws(XMLRPCError) -> R) throws(XMLRPCError) -> R {
        if bytes.count > limits.maximumBodyBytes {
            throw XMLRPCError(.transportError,
                              "request body of \(bytes.count) bytes exceeds the limit of \(limits.maximumBodyBytes) bytes")
        }
        var result: Result<R, XMLRPCError>?
        _ = bytes.withContiguousStorageIfAvailable { buf in
            result = run(buf, limits, parse)
        }
        if result == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { result = run($0, limits, parse) }
        }
        return try result!.get()
    }

    private static func run<R>(_ buf: UnsafeBufferPointer<UInt8>, _ limits: XMLRPCLimits,
                               _ parse: (inout XMLRPCDecoder) throws(XMLRPCError) -> R) -> Result<R, XMLRPCError> {
        do throws(XMLRPCError) {
            let prepared = try XMLInput.prepare(buf, limits: limits)
            if let t = prepared.transcoded {
                return t.withUnsafeBufferPointer { tb in
                    do throws(XMLRPCError) {
                        var d = XMLRPCDecoder(XMLTokenizer(tb, start: prepared.start, maximumDepth: limits.maximumDepth))
                        return .success(try parse(&d))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var d = XMLRPCDecoder(XMLTokenizer(buf, start: prepared.start, maximumDepth: limits.maximumDepth))
            return .success(try parse(&d))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Documents

    mutating func methodCall() throws(XMLRPCError) -> XMLRPCRequest {
        try root("methodCall")
        var name: String?
        var params: [XMLRPCValue] = []
        var sawParams = false
        loop: while true {
            switch try structural() {
            case .start("methodName"):
                guard name == nil, !sawParams else { throw invalid("misplaced <methodName>") }
                name = try scalarText("methodName").trimmingXMLSpace()
            case .start("params"):
                guard name != nil, !sawParams else { throw invalid("misplaced <params>") }
                sawParams = true
                params = try paramList()
            case .start(let other):
                throw invalid("unexpected <\(other)> in <methodCall>")
            default:
                break loop
            }
        }
        guard let name, !name.isEmpty else { throw invalid("<methodCall> has no <methodName>") }
        try endOfDocument()
        return XMLRPCRequest(methodName: name, params: params)
    }

    mutating func methodResponse() throws(XMLRPCError) -> XMLRPCResponse {
        try root("methodResponse")
        let response: XMLRPCResponse
        switch try structural() {
        case .start("params"):
            let params = try paramList()
            guard params.count == 1 else {
                throw invalid("a <methodResponse> carries exactly one value, found \(params.count)")
            }
            response = .success(params[0])
        case .start("fault"):
            guard try structural() == .start("value") else { throw invalid("<fault> must hold a <value>") }
            let v = try value()
            guard try structural() == .end else { throw invalid("<fault> must hold exactly one <value>") }
            guard let fault = XMLRPCFault(v) else {
                throw invalid("<fault> must be a struct with an int faultCode and a string faultString")
            }
            response = .fault(fault)
        case .start(let other):
            throw invalid("unexpected <\(other)> in <methodResponse>")
        default:
            throw invalid("<methodResponse> has neither <params> nor <fault>")
        }
        guard try structural() == .end else { throw invalid("unexpected content in <methodResponse>") }
        try endOfDocument()
        return response
    }

    // MARK: Structure

    private mutating func root(_ name: String) throws(XMLRPCError) {
        let e = try tok.next()
        guard e == .start(name) else {
            if case .start(let found) = e { throw invalid("expected <\(name)>, found <\(found)>") }
            throw invalid("expected <\(name)>")
        }
    }

    private mutating func endOfDocument() throws(XMLRPCError) {
        guard try tok.next() == .endOfDocument else { throw invalid("content after the root element") }
    }

    /// The next start or end event, skipping whitespace; other text is not allowed here.
    private mutating func structural() throws(XMLRPCError) -> XMLTokenizer.Event {
        while true {
            let e = try tok.next()
            switch e {
            case .text(let t):
                guard t.isXMLSpace else { throw invalid("unexpected text in <\(tok.currentElement)>") }
            case .endOfDocument:
                throw invalid("unexpected end of document")
            default:
                return e
            }
        }
    }

    /// The text content of a scalar element (its start already read), up to its end tag.
    private mutating func scalarText(_ element: String) throws(XMLRPCError) -> String {
        var text = ""
        while true {
            switch try tok.next() {
            case .text(let t): text += t
            case .start(let child): throw invalid("<\(element)> may not contain <\(child)>")
            case .end: return text
            case .endOfDocument: throw invalid("unexpected end of document")
            }
        }
    }

    private mutating func paramList() throws(XMLRPCError) -> [XMLRPCValue] {
        var params: [XMLRPCValue] = []
        while true {
            switch try structural() {
            case .start("param"):
                guard try structural() == .start("value") else { throw invalid("<param> must hold a <value>") }
                params.append(try value())
                guard try structural() == .end else { throw invalid("<param> must hold exactly one <value>") }
            case .start(let other):
                throw invalid("unexpected <\(other)> in <params>")
            default:
                return params
            }
        }
    }

    // MARK: Values

    /// A value, its `<value>` start tag already read.
    private mutating func value() throws(XMLRPCError) -> XMLRPCValue {
        var text = ""
        var typed: XMLRPCValue?
        while true {
            switch try tok.next() {
            case .text(let t):
                if typed == nil { text += t } else if !t.isXMLSpace {
                    throw invalid("text after the typed value in <value>")
                }
            case .start(let type):
                guard typed == nil else { throw invalid("more than one value in <value>") }
                guard text.isXMLSpace else { throw invalid("text mixed with <\(type)> in <value>") }
                typed = try typedValue(type)
            case .end:
                return typed ?? .string(text)
            case .endOfDocument:
                throw invalid("unexpected end of document")
            }
        }
    }

    private mutating func typedValue(_ type: String) throws(XMLRPCError) -> XMLRPCValue {
        switch type {
        case "string":
            return .string(try scalarText(type))
        case "int", "i4", "i8", "i1", "i2", "biginteger":
            let t = try scalarText(type)
            switch XMLRPCNumberFormat.parseInt(t) {
            case .value(let v): return .int(v)
            case .malformed: throw invalid("malformed <\(type)> value '\(t.excerpt)'")
            case .outOfRange: throw invalid("<\(type)> value '\(t.excerpt)' is out of the 64-bit range")
            }
        case "boolean":
            switch try scalarText(type).trimmingXMLSpace() {
            case "1", "true": return .bool(true)
            case "0", "false": return .bool(false)
            case let t: throw invalid("malformed <boolean> value '\(t.excerpt)' (expected 0 or 1)")
            }
        case "double", "float":
            let t = try scalarText(type)
            switch XMLRPCNumberFormat.parseDouble(t) {
            case .value(let v): return .double(v)
            case .malformed: throw invalid("malformed <\(type)> value '\(t.excerpt)'")
            case .outOfRange: throw invalid("<\(type)> value '\(t.excerpt)' is out of the double range")
            }
        case "dateTime.iso8601":
            let t = try scalarText(type).trimmingXMLSpace()
            guard let dt = XMLRPCDateTime(parsing: t) else {
                throw invalid("malformed <dateTime.iso8601> value '\(t.excerpt)' (expected e.g. 20051012T10:11:12)")
            }
            return .dateTime(dt)
        case "base64":
            guard let bytes = Base64.decode(try scalarText(type)) else { throw invalid("malformed <base64> value") }
            return .base64(bytes)
        case "nil":
            guard try scalarText(type).isXMLSpace else { throw invalid("<nil/> must be empty") }
            return .nil
        case "struct":
            return try structValue()
        case "array":
            return try arrayValue()
        default:
            throw invalid("unsupported value type <\(type)>")
        }
    }

    private mutating func structValue() throws(XMLRPCError) -> XMLRPCValue {
        var members: [String: XMLRPCValue] = [:]
        while true {
            switch try structural() {
            case .start("member"):
                var name: String?
                var value: XMLRPCValue?
                member: while true {
                    switch try structural() {
                    case .start("name"):
                        guard name == nil else { throw invalid("<member> with two <name>s") }
                        name = try scalarText("name")
                    case .start("value"):
                        guard value == nil else { throw invalid("<member> with two <value>s") }
                        value = try self.value()
                    case .start(let other):
                        throw invalid("unexpected <\(other)> in <member>")
                    default:
                        break member
                    }
                }
                guard let name, let value else { throw invalid("<member> needs a <name> and a <value>") }
                members[name] = value  // a repeated name keeps the last value, as Python does
            case .start(let other):
                throw invalid("unexpected <\(other)> in <struct>")
            default:
                return .struct(members)
            }
        }
    }

    private mutating func arrayValue() throws(XMLRPCError) -> XMLRPCValue {
        var items: [XMLRPCValue] = []
        var sawData = false
        while true {
            switch try structural() {
            case .start("data") where !sawData && items.isEmpty:
                sawData = true
                data: while true {
                    switch try structural() {
                    case .start("value"): items.append(try value())
                    case .start(let other): throw invalid("unexpected <\(other)> in <data>")
                    default: break data
                    }
                }
            case .start("value") where !sawData:
                items.append(try value())  // tolerated: values without the <data> wrapper
            case .start(let other):
                throw invalid("unexpected <\(other)> in <array>")
            default:
                return .array(items)
            }
        }
    }

    private func invalid(_ message: String) -> XMLRPCError {
        tok.error(.invalidXMLRPC, message)
    }
}

extension StringProtocol {
    var isXMLSpace: Bool { utf8.allSatisfy(XMLBytes.isSpace) }

    func trimmingXMLSpace() -> String {
        var u = Substring(self).utf8[...]
        while let f = u.first, XMLBytes.isSpace(f) { u = u.dropFirst() }
        while let l = u.last, XMLBytes.isSpace(l) { u = u.dropLast() }
        return String(decoding: u, as: UTF8.self)
    }

    /// At most 40 characters, for echoing input in messages.
    var excerpt: String { count > 40 ? String(prefix(40)) + "…" : String(self) }
}
