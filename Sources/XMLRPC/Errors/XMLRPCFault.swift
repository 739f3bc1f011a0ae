/// An XML-RPC fault as it travels on the wire: a `faultCode` and a `faultString`.
///
/// A server answers a failed call with a fault instead of a result; ``XMLRPCError`` is the
/// Swift-side error that turns into one. A fault is itself an `Error` so a client can throw it.
public struct XMLRPCFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// The fault code (see ``XMLRPCError/Code`` for the standard ones).
    public var code: Int
    /// The fault string.
    public var string: String

    public init(code: Int, string: String) {
        self.code = code
        self.string = string
    }

    /// The fault an error is sent as.
    public init(_ error: XMLRPCError) {
        self = error.fault
    }

    /// The fault as the `{faultCode, faultString}` struct used on the wire and in
    /// `system.multicall` results.
    public var value: XMLRPCValue {
        .struct(["faultCode": .int(code), "faultString": .string(string)])
    }

    /// Reads a `{faultCode, faultString}` struct; nil when the value has another shape.
    public init?(_ value: XMLRPCValue) {
        guard case .struct(let members) = value,
              case .int(let code)? = members["faultCode"],
              case .string(let string)? = members["faultString"]
        else { return nil }
        self.init(code: code, string: string)
    }

    public var description: String { "XML-RPC fault \(code): \(string)" }
}
