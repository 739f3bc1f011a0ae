import CLibPQ
public import Foundation

/// The rows of a finished statement (text format), kept in libpq's result until released.
///
/// A result is read-only once created, so it may be shared between threads.
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
    let result: OpaquePointer
    /// Column names as the server reports them (unquoted identifiers are lower case).
    public let columns: [String]
    /// The command tag, e.g. `SELECT 3`, `INSERT 0 1`, `COPY 100000`.
    public let commandTag: String
    private let columnIndex: [String: Int]

    init(result: OpaquePointer) {
        self.result = result
        let n = Int(PQnfields(result))
        var names: [String] = []
        names.reserveCapacity(n)
        for i in 0..<n { names.append(String(cString: PQfname(result, Int32(i)))) }
        columns = names
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated().reversed() { index[name] = i }
        columnIndex = index
        commandTag = String(cString: PQcmdStatus(result))
        rowCount = Int(PQntuples(result))
    }

    deinit { PQclear(result) }

    private let rowCount: Int
    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY/…, or returned by SELECT.
    public var affectedRows: Int {
        Int(String(cString: PQcmdTuples(result))) ?? rowCount
    }

    /// The index of a column: exact name first, then as an unquoted identifier (lower case).
    public func columnIndex(of name: String) -> Int? {
        columnIndex[name] ?? columnIndex[name.lowercased()]
    }
}

/// One row of a result. Values decode by column name or index:
/// `try row.decode(Int64.self, "multiframeID")`, `try row.decode(String?.self, at: 2)`.
public struct PostgresRow: Sendable {
    public let rows: PostgresRows
    public let index: Int

    public var columnCount: Int { rows.columns.count }

    /// Decodes the value of the named column; NULL decodes only into an Optional.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        guard let i = rows.columnIndex(of: column) else {
            throw PostgresError(code: .columnNotFound,
                                message: "no column '\(column)' in the result (columns: "
                                    + rows.columns.joined(separator: ", ") + ")")
        }
        return try decode(type, at: i)
    }

    /// Decodes the value of the column at `column` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type, at column: Int) throws -> T {
        guard column >= 0, column < rows.columns.count else {
            throw PostgresError(code: .columnNotFound,
                                message: "column index \(column) out of range 0..<\(rows.columns.count)")
        }
        let r = rows.result, row = Int32(index), col = Int32(column)
        if PQgetisnull(r, row, col) != 0 {
            guard let value = T.postgresNull else {
                throw PostgresError(code: .decodingFailed,
                                    message: "column '\(rows.columns[column])' (row \(index)) is NULL; "
                                        + "decode it as \(T.self)? instead")
            }
            return value
        }
        let cell = PostgresCell(pointer: PQgetvalue(r, row, col), length: Int(PQgetlength(r, row, col)),
                                type: UInt32(PQftype(r, col)))
        guard let value = T(postgresCell: cell) else {
            throw PostgresError(code: .decodingFailed,
                                message: "column '\(rows.columns[column])' (row \(index)): cannot decode "
                                    + "'\(cell.string.prefix(64))' as \(T.self)")
        }
        return value
    }

    /// True when the value at `column` is NULL.
    public func isNull(at column: Int) -> Bool {
        PQgetisnull(rows.result, Int32(index), Int32(column)) != 0
    }

    /// The server's text for a column, or nil for NULL.
    public func text(at column: Int) -> String? {
        isNull(at: column) ? nil : String(cString: PQgetvalue(rows.result, Int32(index), Int32(column)))
    }
}

/// One non-NULL value of a text-format result, valid only while its result lives.
public struct PostgresCell {
    /// NUL-terminated text of the value.
    public let pointer: UnsafePointer<CChar>
    public let length: Int
    /// The column's type OID.
    public let type: UInt32

    public var string: String {
        String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}

/// A Swift type that can be read from a (text-format) result value.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value; nil when the text is not a valid value of this type.
    init?(postgresCell cell: PostgresCell)
    /// The value NULL decodes to, or nil when NULL is not acceptable.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let value = Wrapped(postgresCell: cell) else { return nil }
        self = .some(value)
    }
    public static var postgresNull: Wrapped?? { .some(.none) }
}

extension String: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) { self = cell.string }
}

extension Bool: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard cell.length == 1 else { return nil }
        switch UInt8(bitPattern: cell.pointer[0]) {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: return nil
        }
    }
}

/// Parses a decimal integer from the cell without making a String.
private func parseInteger<T: FixedWidthInteger>(_ cell: PostgresCell, as: T.Type) -> T? {
    let bytes = UnsafeRawBufferPointer(start: cell.pointer, count: cell.length)
    guard !bytes.isEmpty else { return nil }
    var i = 0
    let negative = bytes[0] == UInt8(ascii: "-")
    if negative || bytes[0] == UInt8(ascii: "+") { i = 1 }
    guard i < bytes.count else { return nil }
    var value: T = 0
    while i < bytes.count {
        let d = bytes[i] &- UInt8(ascii: "0")
        guard d < 10 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(T(d)) : m.addingReportingOverflow(T(d))
        guard !o1, !o2 else { return nil }
        value = s
        i += 1
    }
    return value
}

extension Int: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let v = parseInteger(cell, as: Int.self) else { return nil }
        self = v
    }
}
extension Int64: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let v = parseInteger(cell, as: Int64.self) else { return nil }
        self = v
    }
}
extension Int32: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let v = parseInteger(cell, as: Int32.self) else { return nil }
        self = v
    }
}
extension Int16: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let v = parseInteger(cell, as: Int16.self) else { return nil }
        self = v
    }
}

/// Parses PostgreSQL's float output (shortest round-trip digits, `NaN`, `Infinity`).
private func parseDouble(_ cell: PostgresCell) -> Double? {
    guard cell.length > 0 else { return nil }
    var end: UnsafeMutablePointer<CChar>? = nil
    let value = strtod(cell.pointer, &end)
    guard let end, end == UnsafeMutablePointer(mutating: cell.pointer) + cell.length else { return nil }
    return value
}

extension Double: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let v = parseDouble(cell) else { return nil }
        self = v
    }
}
extension Float: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard cell.length > 0 else { return nil }
        var end: UnsafeMutablePointer<CChar>? = nil
        let value = strtof(cell.pointer, &end)
        guard let end, end == UnsafeMutablePointer(mutating: cell.pointer) + cell.length else { return nil }
        self = value
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// bytea in the server's hex output format (`\x0a1b…`).
    public init?(postgresCell cell: PostgresCell) {
        let text = UnsafeRawBufferPointer(start: cell.pointer, count: cell.length)
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"),
              text.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((text.count - 2) / 2)
        var i = 2
        while i < text.count {
            guard let hi = nibble(text[i]), let lo = nibble(text[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        self = out
    }
}

extension Date: PostgresDecodable {
    /// `timestamptz`/`timestamp`/`date` in ISO style (`2005-10-12 21:03:04.5+00`); a value
    /// without a zone is taken as UTC. The connection sets `DateStyle=ISO` and `TimeZone=UTC`.
    public init?(postgresCell cell: PostgresCell) {
        guard let seconds = parseISOTimestamp(cell.string) else { return nil }
        self = Date(timeIntervalSince1970: seconds)
    }
}

/// Seconds since the Unix epoch for `YYYY-MM-DD[ HH:MM:SS[.ffffff]][±HH[:MM[:SS]]]`.
func parseISOTimestamp(_ text: String) -> Double? {
    switch text {
    case "infinity": return .infinity
    case "-infinity": return -.infinity
    default: break
    }
    let u = Array(text.utf8)
    var i = 0
    func number(_ digits: Int) -> Int? {
        guard i + digits <= u.count else { return nil }
        var v = 0
        for _ in 0..<digits {
            let d = Int(u[i]) - 48
            guard (0...9).contains(d) else { return nil }
            v = v * 10 + d
            i += 1
        }
        return v
    }
    func expect(_ c: Character) -> Bool {
        guard i < u.count, u[i] == c.asciiValue! else { return false }
        i += 1
        return true
    }
    guard let year = number(4), expect("-"), let month = number(2), expect("-"),
          let day = number(2) else { return nil }
    var seconds = Double(daysFromCivil(year, month, day)) * 86_400
    if i < u.count, u[i] == UInt8(ascii: " ") || u[i] == UInt8(ascii: "T") {
        i += 1
        guard let h = number(2), expect(":"), let m = number(2), expect(":"),
              let s = number(2) else { return nil }
        seconds += Double(h * 3600 + m * 60 + s)
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1, fraction = 0.0
            while i < u.count, (48...57).contains(u[i]) {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
            seconds += fraction
        }
    }
    if i < u.count {
        let sign: Double
        switch u[i] {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        i += 1
        guard let zh = number(2) else { return nil }
        var offset = zh * 3600
        if expect(":") { guard let zm = number(2) else { return nil }; offset += zm * 60 }
        if expect(":") { guard let zs = number(2) else { return nil }; offset += zs }
        seconds -= sign * Double(offset)
    }
    return i == u.count ? seconds : nil
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
