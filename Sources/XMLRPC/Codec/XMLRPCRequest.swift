/// An XML-RPC method call: a method name and its parameters.
///
/// ```swift
/// let call = XMLRPCRequest(methodName: "wsa.writeLock", params: ["cu13", 300])
/// let body = try call.encoded()                       // client side
/// let back = try XMLRPCRequest(decoding: body)          // server side
/// ```
public struct XMLRPCRequest: Sendable, Hashable {
    /// The method name (XML-RPC allows A–Z, a–z, 0–9, `_`, `.`, `:` and `/`; the codec does not
    /// enforce it, the registry only finds registered names).
    public var methodName: String
    /// The positional parameters.
    public var params: [XMLRPCValue]

    public init(methodName: String, params: [XMLRPCValue] = []) {
        self.methodName = methodName
        self.params = params
    }

    /// Decodes a `<methodCall>` body (UTF-8, or ISO-8859-1 when declared so), refusing
    /// anything unsafe or malformed with an error whose code is the fault code to answer.
    public init(decoding body: some Collection<UInt8>, limits: XMLRPCLimits = .default) throws(XMLRPCError) {
        self = try XMLRPCDecoder.decode(body, limits: limits) { (d) throws(XMLRPCError) in try d.methodCall() }
    }

    /// Encodes the call as a UTF-8 `<methodCall>` document. Throws
    /// ``XMLRPCError/Code/invalidCharacter`` for strings XML 1.0 cannot carry.
    public func encoded() throws(XMLRPCError) -> [UInt8] {
        var w = XMLRPCWriter()
        w.declaration()
        w.raw("<methodCall><methodName>")
        try w.text(methodName)
        w.raw("</methodName><params>")
        for p in params {
            w.raw("<param>")
            try w.value(p)
            w.raw("</param>")
        }
        w.raw("</params></methodCall>\n")
        return w.bytes
    }
}
