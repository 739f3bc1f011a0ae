/// An XML-RPC method response: one result value, or a fault.
public enum XMLRPCResponse: Sendable, Hashable {
    case success(XMLRPCValue)
    case fault(XMLRPCFault)

    /// Decodes a `<methodResponse>` body. A fault in the body is not an error here: it
    /// decodes to ``fault(_:)``; only a malformed or unsafe body throws.
    public init(decoding body: some Collection<UInt8>, limits: XMLRPCLimits = .default) throws(XMLRPCError) {
        self = try XMLRPCDecoder.decode(body, limits: limits) { (d) throws(XMLRPCError) in try d.methodResponse() }
    }

    /// A fault response for an error.
    public init(_ error: XMLRPCError) {
        self = .fault(error.fault)
    }

    /// The result, or the fault thrown.
    public func get() throws(XMLRPCFault) -> XMLRPCValue {
        switch self {
        case .success(let v): return v
        case .fault(let f): throw f
        }
    }

    /// Encodes the response as a UTF-8 `<methodResponse>` document. A success whose value holds
    /// a string XML 1.0 cannot carry throws ``XMLRPCError/Code/invalidCharacter``; a fault never
    /// throws (such characters in its string become U+FFFD).
    public func encoded() throws(XMLRPCError) -> [UInt8] {
        switch self {
        case .success(let v):
            var w = XMLRPCWriter()
            w.declaration()
            w.raw("<methodResponse><params><param>")
            try w.value(v)
            w.raw("</param></params></methodResponse>\n")
            return w.bytes
        case .fault(let f):
            return Self.encode(f)
        }
    }

    /// Encodes the response; when the result cannot be encoded, encodes the fault saying so.
    public func encodedOrFault() -> [UInt8] {
        do throws(XMLRPCError) {
            return try encoded()
        } catch {
            return Self.encode(XMLRPCFault(error))
        }
    }

    static func encode(_ f: XMLRPCFault) -> [UInt8] {
        var w = XMLRPCWriter()
        w.declaration()
        w.raw("<methodResponse><fault><value><struct><member><name>faultCode</name>")
        try! w.value(.int(f.code))
        w.raw("</member><member><name>faultString</name><value><string>")
        try! w.text(f.string, replacing: true)
        w.raw("</string></value></member></struct></value></fault></methodResponse>\n")
        return w.bytes
    }
}
