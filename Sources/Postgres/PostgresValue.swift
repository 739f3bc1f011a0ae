public import Foundation

/// A value sent to the server as a bind parameter (`$1`, `$2`, …). `nil` in a parameter list is
/// SQL NULL.
///
/// Numbers, booleans, bytes and timestamps travel in binary with their exact type; `.text` travels
/// as text of unspecified type, so the server reads it as whatever the context needs
/// (`varchar`, `date`, `numeric`, `jsonb` …).
public enum PostgresValue: Sendable, Hashable {
    case bool(Bool)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case text(String)
    case bytes([UInt8])
    /// A point in time, sent as `timestamptz` (microsecond precision).
    case timestamp(Date)
}

extension PostgresValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                         ExpressibleByBooleanLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(floatLiteral value: Double) { self = .float64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .text(value) }
}

/// A Swift type that can be sent as a bind parameter.
public protocol PostgresValueConvertible {
    var postgresValue: PostgresValue { get }
}

extension PostgresValue: PostgresValueConvertible {
    public var postgresValue: PostgresValue { self }
}
extension Bool: PostgresValueConvertible { public var postgresValue: PostgresValue { .bool(self) } }
extension Int16: PostgresValueConvertible { public var postgresValue: PostgresValue { .int16(self) } }
extension Int32: PostgresValueConvertible { public var postgresValue: PostgresValue { .int32(self) } }
extension Int64: PostgresValueConvertible { public var postgresValue: PostgresValue { .int64(self) } }
extension Int: PostgresValueConvertible { public var postgresValue: PostgresValue { .int64(Int64(self)) } }
extension Float: PostgresValueConvertible { public var postgresValue: PostgresValue { .float32(self) } }
extension Double: PostgresValueConvertible { public var postgresValue: PostgresValue { .float64(self) } }
extension String: PostgresValueConvertible { public var postgresValue: PostgresValue { .text(self) } }
extension Substring: PostgresValueConvertible { public var postgresValue: PostgresValue { .text(String(self)) } }
extension Date: PostgresValueConvertible { public var postgresValue: PostgresValue { .timestamp(self) } }
extension Array: PostgresValueConvertible where Element == UInt8 {
    public var postgresValue: PostgresValue { .bytes(self) }
}

/// PostgreSQL type OIDs used by this layer.
enum PostgresOID {
    static let unspecified: UInt32 = 0
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
}

/// Seconds from the Unix epoch to PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
let postgresEpochUnixSeconds: Double = 946_684_800

/// Parameters laid out for `PQexecParams`: one contiguous byte buffer plus offsets.
struct EncodedParameters {
    var types: [UInt32] = []
    var formats: [Int32] = []
    var lengths: [Int32] = []
    var offsets: [Int] = []  // -1 for NULL
    var bytes: [UInt8] = []

    init(_ values: [PostgresValue?]) {
        types.reserveCapacity(values.count)
        formats.reserveCapacity(values.count)
        lengths.reserveCapacity(values.count)
        offsets.reserveCapacity(values.count)
        for value in values {
            guard let value else {
                types.append(PostgresOID.unspecified)
                formats.append(0)
                lengths.append(0)
                offsets.append(-1)
                continue
            }
            let start = bytes.count
            switch value {
            case .bool(let v):
                append(PostgresOID.bool, binary: true) { $0.append(v ? 1 : 0) }
            case .int16(let v):
                append(PostgresOID.int2, binary: true) { $0.appendBigEndian(v) }
            case .int32(let v):
                append(PostgresOID.int4, binary: true) { $0.appendBigEndian(v) }
            case .int64(let v):
                append(PostgresOID.int8, binary: true) { $0.appendBigEndian(v) }
            case .float32(let v):
                append(PostgresOID.float4, binary: true) { $0.appendBigEndian(v.bitPattern) }
            case .float64(let v):
                append(PostgresOID.float8, binary: true) { $0.appendBigEndian(v.bitPattern) }
            case .text(let v):
                append(PostgresOID.unspecified, binary: false) { $0.append(contentsOf: v.utf8) }
            case .bytes(let v):
                append(PostgresOID.bytea, binary: true) { $0.append(contentsOf: v) }
            case .timestamp(let v):
                let micros = ((v.timeIntervalSince1970 - postgresEpochUnixSeconds) * 1_000_000)
                    .rounded()
                append(PostgresOID.timestamptz, binary: true) { $0.appendBigEndian(Int64(micros)) }
            }
            offsets.append(start)
            lengths.append(Int32(bytes.count - start - (formats.last == 0 ? 1 : 0)))
        }
        bytes.append(0)  // so the buffer is never empty and every offset has an address
    }

    private mutating func append(_ oid: UInt32, binary: Bool, _ write: (inout [UInt8]) -> Void) {
        types.append(oid)
        formats.append(binary ? 1 : 0)
        write(&bytes)
        if !binary { bytes.append(0) }  // text parameters are NUL-terminated C strings
    }

    /// Calls `body` with the C arrays `PQexecParams` wants.
    func withUnsafeParameters<R>(
        _ body: (Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?,
                 UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> R
    ) rethrows -> R {
        try bytes.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress!)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : (base + offset).assumingMemoryBound(to: CChar.self)
            }
            return try types.withUnsafeBufferPointer { types in
                try lengths.withUnsafeBufferPointer { lengths in
                    try formats.withUnsafeBufferPointer { formats in
                        try pointers.withUnsafeMutableBufferPointer { pointers in
                            try body(Int32(offsets.count), types.baseAddress,
                                     UnsafePointer(pointers.baseAddress),
                                     lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
