/// The XML-RPC type names used in introspection (`system.methodSignature`) and in the
/// parameter checks of ``XMLRPCMethodRegistry``.
public enum XMLRPCValueType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case int
    case boolean
    case string
    case double
    case dateTime = "dateTime.iso8601"
    case base64
    case `struct`
    case array
    case `nil`
    /// Any value (for parameters a signature does not constrain).
    case any

    /// Whether a parameter of this type accepts `value`. An `int` is accepted where a
    /// `double` is expected (Python sends `5` for `5.0`); ``XMLRPCValue/doubleValue`` widens it.
    public func accepts(_ value: XMLRPCValue) -> Bool {
        switch (self, value) {
        case (.any, _): true
        case (.double, .int): true
        default: value.type == self
        }
    }

    public var description: String { rawValue }
}
