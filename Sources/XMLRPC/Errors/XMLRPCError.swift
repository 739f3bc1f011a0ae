/// The XML-RPC layer's error: a stable ``Code`` that maps one-to-one onto an XML-RPC `faultCode`,
/// and a message that is safe to show to a caller (it never carries secrets or large input).
///
/// The standard codes follow the de-facto "specification for fault code interoperability"
/// (xmlrpc-epi). Servers add their own application codes as static constants on ``Code``:
///
/// ```swift
/// extension XMLRPCError.Code {
///     static let staleFencingToken = XMLRPCError.Code(rawValue: 1001)
/// }
/// throw XMLRPCError(.staleFencingToken, "fencing token 41 is older than 42")
/// ```
///
/// Application codes should lie outside `-32768 ... -32000`, which the interoperability
/// specification reserves for the XML-RPC layer itself.
public struct XMLRPCError: Error, Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// A stable error code; its `rawValue` is the XML-RPC `faultCode`.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// -32700: the body is not well-formed XML, or uses XML features this parser refuses
        /// (document type declarations, entities, processing instructions, over-deep nesting).
        public static let parseError = Code(rawValue: -32700)
        /// -32701: the body declares or uses a character encoding other than UTF-8 (or ISO-8859-1).
        public static let unsupportedEncoding = Code(rawValue: -32701)
        /// -32702: invalid UTF-8, or a character XML 1.0 cannot carry.
        public static let invalidCharacter = Code(rawValue: -32702)
        /// -32600: well-formed XML that is not valid XML-RPC (wrong elements, bad scalar values).
        public static let invalidXMLRPC = Code(rawValue: -32600)
        /// -32601: no method of that name.
        public static let methodNotFound = Code(rawValue: -32601)
        /// -32602: the parameters do not match the method's signature.
        public static let invalidParameters = Code(rawValue: -32602)
        /// -32603: an unexpected error inside the server; the message carries no details.
        public static let internalError = Code(rawValue: -32603)
        /// -32500: a generic application error.
        public static let applicationError = Code(rawValue: -32500)
        /// -32400: a system error.
        public static let systemError = Code(rawValue: -32400)
        /// -32300: a transport error (including a request body over the size limit).
        public static let transportError = Code(rawValue: -32300)
        /// -32001 (implementation-defined server error range): the caller's role may not call
        /// this method.
        public static let notAuthorized = Code(rawValue: -32001)

        /// True for codes in `-32768 ... -32000`, reserved for the XML-RPC layer.
        public var isReserved: Bool { (-32768 ... -32000).contains(rawValue) }

        /// A short human name for the code ("parse error", "method not found", …).
        public var name: String {
            switch self {
            case .parseError: "parse error"
            case .unsupportedEncoding: "unsupported encoding"
            case .invalidCharacter: "invalid character"
            case .invalidXMLRPC: "invalid XML-RPC"
            case .methodNotFound: "method not found"
            case .invalidParameters: "invalid method parameters"
            case .internalError: "internal error"
            case .applicationError: "application error"
            case .systemError: "system error"
            case .transportError: "transport error"
            case .notAuthorized: "not authorized"
            default: isReserved ? "server error \(rawValue)" : "application error \(rawValue)"
            }
        }

        public var description: String { "\(rawValue) (\(name))" }
    }

    /// The stable code; `code.rawValue` is the fault code sent on the wire.
    public var code: Code
    /// A message safe to show to the caller.
    public var message: String
    /// Extra detail for logs only; never sent over the wire.
    public var detail: String?

    /// Creates an error with a code, a caller-safe message and optional log-only detail.
    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    /// Wraps a fault received from a server.
    public init(_ fault: XMLRPCFault) {
        self.init(Code(rawValue: fault.code), fault.string)
    }

    /// The XML-RPC `faultCode`.
    public var faultCode: Int { code.rawValue }

    /// The fault this error is sent as (the `detail` stays behind).
    public var fault: XMLRPCFault { XMLRPCFault(code: code.rawValue, string: message) }

    public var description: String { "XML-RPC fault \(code.rawValue): \(message)" }

    public var debugDescription: String {
        var s = "XMLRPCError(code: \(code), message: \(String(reflecting: message))"
        if let detail { s += ", detail: \(String(reflecting: detail))" }
        return s + ")"
    }
}
