#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A Swift type that converts to and from an ``XMLRPCValue``.
///
/// Conformances: `XMLRPCValue`, `Int`, `Int32`, `Int64`, `Bool`, `String`, `Double`, `Float`,
/// `XMLRPCDateTime`, `Date` (UTC, to the second), `Data` (base64), and arrays, `String`-keyed
/// dictionaries and optionals (`nil` ↔ `<nil/>`) of convertible types.
public protocol XMLRPCValueConvertible {
    /// Converts from a value; nil when the value has another type or does not fit.
    init?(xmlrpcValue: XMLRPCValue)
    /// The value this converts to.
    var xmlrpcValue: XMLRPCValue { get }
    /// The type name used in error messages.
    static var xmlrpcTypeName: String { get }
}

extension XMLRPCValue {
    /// Wraps a convertible Swift value.
    public init(_ value: some XMLRPCValueConvertible) { self = value.xmlrpcValue }
}

extension XMLRPCValue: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) { self = xmlrpcValue }
    public var xmlrpcValue: XMLRPCValue { self }
    public static var xmlrpcTypeName: String { "any value" }
}

extension Int: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .int(let v) = xmlrpcValue else { return nil }
        self = v
    }
    public var xmlrpcValue: XMLRPCValue { .int(self) }
    public static var xmlrpcTypeName: String { "int" }
}

extension Int64: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .int(let v) = xmlrpcValue else { return nil }
        self = Int64(v)
    }
    public var xmlrpcValue: XMLRPCValue { .int(Int(self)) }
    public static var xmlrpcTypeName: String { "int" }
}

extension Int32: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .int(let v) = xmlrpcValue, let x = Int32(exactly: v) else { return nil }
        self = x
    }
    public var xmlrpcValue: XMLRPCValue { .int(Int(self)) }
    public static var xmlrpcTypeName: String { "int (32-bit)" }
}

extension Bool: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .bool(let v) = xmlrpcValue else { return nil }
        self = v
    }
    public var xmlrpcValue: XMLRPCValue { .bool(self) }
    public static var xmlrpcTypeName: String { "boolean" }
}

extension String: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .string(let v) = xmlrpcValue else { return nil }
        self = v
    }
    public var xmlrpcValue: XMLRPCValue { .string(self) }
    public static var xmlrpcTypeName: String { "string" }
}

extension Double: XMLRPCValueConvertible {
    /// Accepts a `double` or an `int` (widened).
    public init?(xmlrpcValue: XMLRPCValue) {
        guard let v = xmlrpcValue.doubleValue else { return nil }
        self = v
    }
    public var xmlrpcValue: XMLRPCValue { .double(self) }
    public static var xmlrpcTypeName: String { "double" }
}

extension Float: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard let v = xmlrpcValue.doubleValue else { return nil }
        self = Float(v)
    }
    public var xmlrpcValue: XMLRPCValue { .double(Double(self)) }
    public static var xmlrpcTypeName: String { "double" }
}

extension XMLRPCDateTime: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .dateTime(let v) = xmlrpcValue else { return nil }
        self = v
    }
    public var xmlrpcValue: XMLRPCValue { .dateTime(self) }
    public static var xmlrpcTypeName: String { "dateTime.iso8601" }
}

extension Date: XMLRPCValueConvertible {
    /// Reads a `dateTime.iso8601` as UTC.
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .dateTime(let v) = xmlrpcValue else { return nil }
        self = v.date
    }
    /// Writes the UTC date-time truncated to the second. A date outside years 1…9999 (which
    /// XML-RPC cannot carry) is clamped to the nearest representable one.
    public var xmlrpcValue: XMLRPCValue {
        if let dt = XMLRPCDateTime(self) { return .dateTime(dt) }
        return .dateTime(timeIntervalSince1970 < 0
            ? XMLRPCDateTime(year: 1, month: 1, day: 1)!
            : XMLRPCDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)!)
    }
    public static var xmlrpcTypeName: String { "dateTime.iso8601" }
}

extension Data: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .base64(let v) = xmlrpcValue else { return nil }
        self = Data(v)
    }
    public var xmlrpcValue: XMLRPCValue { .base64(Array(self)) }
    public static var xmlrpcTypeName: String { "base64" }
}

extension Array: XMLRPCValueConvertible where Element: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .array(let a) = xmlrpcValue else { return nil }
        var out: [Element] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let e = Element(xmlrpcValue: v) else { return nil }
            out.append(e)
        }
        self = out
    }
    public var xmlrpcValue: XMLRPCValue { .array(map(\.xmlrpcValue)) }
    public static var xmlrpcTypeName: String { "array of \(Element.xmlrpcTypeName)" }
}

extension Dictionary: XMLRPCValueConvertible where Key == String, Value: XMLRPCValueConvertible {
    public init?(xmlrpcValue: XMLRPCValue) {
        guard case .struct(let m) = xmlrpcValue else { return nil }
        var out: [String: Value] = [:]
        out.reserveCapacity(m.count)
        for (k, v) in m {
            guard let e = Value(xmlrpcValue: v) else { return nil }
            out[k] = e
        }
        self = out
    }
    public var xmlrpcValue: XMLRPCValue { .struct(mapValues(\.xmlrpcValue)) }
    public static var xmlrpcTypeName: String { "struct of \(Value.xmlrpcTypeName)" }
}

extension Optional: XMLRPCValueConvertible where Wrapped: XMLRPCValueConvertible {
    /// `nil` reads as `.none`; anything else must convert to `Wrapped`.
    public init?(xmlrpcValue: XMLRPCValue) {
        if case .nil = xmlrpcValue {
            self = .none
            return
        }
        guard let w = Wrapped(xmlrpcValue: xmlrpcValue) else { return nil }
        self = .some(w)
    }
    public var xmlrpcValue: XMLRPCValue { map(\.xmlrpcValue) ?? .nil }
    public static var xmlrpcTypeName: String { "\(Wrapped.xmlrpcTypeName) or nil" }
}
