/// One XML-RPC value: every type Python's `xmlrpc.client` sends and accepts.
///
/// | case         | wire form                                   | Python type            |
/// |--------------|---------------------------------------------|------------------------|
/// | `int`        | `<int>`, `<i4>`, `<i8>`, `<ex:i8>` (read); `<int>` or `<i8>` (written) | `int` |
/// | `bool`       | `<boolean>0|1</boolean>`                    | `bool`                 |
/// | `string`     | `<string>…</string>` or bare `<value>…</value>` | `str`              |
/// | `double`     | `<double>` (also `<float>` on read)         | `float`                |
/// | `dateTime`   | `<dateTime.iso8601>20051012T10:11:12</…>`   | `datetime` / `DateTime`|
/// | `base64`     | `<base64>…</base64>`                        | `bytes` / `Binary`     |
/// | `struct`     | `<struct><member><name/><value/></member>…` | `dict`                 |
/// | `array`      | `<array><data><value/>…</data></array>`     | `list`                 |
/// | `nil`        | `<nil/>`, `<ex:nil/>`                        | `None` (`allow_none`)  |
///
/// Integers are 64-bit. Values that fit in 32 bits are written as `<int>`, larger ones as
/// `<i8>` (an extension Python, Apache XML-RPC and most modern libraries read; strict XML-RPC
/// 1.0 peers would refuse them). Struct members are unordered; they are written sorted by name
/// so encodings are deterministic.
public enum XMLRPCValue: Sendable, Hashable {
    case int(Int)
    case bool(Bool)
    case string(String)
    case double(Double)
    case dateTime(XMLRPCDateTime)
    case base64([UInt8])
    case `struct`([String: XMLRPCValue])
    case array([XMLRPCValue])
    case `nil`

    /// The value's type, as named in introspection signatures.
    public var type: XMLRPCValueType {
        switch self {
        case .int: .int
        case .bool: .boolean
        case .string: .string
        case .double: .double
        case .dateTime: .dateTime
        case .base64: .base64
        case .struct: .struct
        case .array: .array
        case .nil: .nil
        }
    }
}

extension XMLRPCValue: CustomStringConvertible {
    /// A compact, Python-like rendering for logs and test failures.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .bool(let v): return v ? "True" : "False"
        case .string(let v): return String(reflecting: v)
        case .double(let v): return XMLRPCNumberFormat.double(v)
        case .dateTime(let v): return "<DateTime \(v)>"
        case .base64(let v):
            return "b'" + v.prefix(64).map { b in
                (32..<127).contains(b) && b != 39 && b != 92
                    ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16).leftPadded(to: 2)
            }.joined() + (v.count > 64 ? "…" : "") + "'"
        case .struct(let m):
            return "{" + m.keys.sorted().map { "\(String(reflecting: $0)): \(m[$0]!)" }
                .joined(separator: ", ") + "}"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .nil: return "None"
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
