/// A statement whose interpolated values become bind parameters.
///
/// ```swift
/// try connection.query("select * from multiframe where filename = \(name) and version = \(v)")
/// // sends: select * from multiframe where filename = $1 and version = $2   [name, v]
/// ```
/// Text that must become part of the SQL itself is spelled out at the call site:
/// `\(identifier: table)` for a validated identifier, `\(unsafeSQL: fragment)` for SQL that
/// contains no user-supplied values.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    public var sql: String
    public var binds: [PostgresValue?]

    /// A statement given as SQL text plus its parameter values. The SQL must contain no
    /// user-supplied values: those belong in `binds`.
    public init(unsafeSQL sql: String, binds: [PostgresValue?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresValue?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + 4 * interpolationCount)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A value: becomes the next `$n`.
        public mutating func appendInterpolation(_ value: some PostgresValueConvertible) {
            binds.append(value.postgresValue)
            sql += "$\(binds.count)"
        }

        /// A value or NULL: becomes the next `$n`.
        public mutating func appendInterpolation(_ value: (some PostgresValueConvertible)?) {
            binds.append(value?.postgresValue)
            sql += "$\(binds.count)"
        }

        /// A validated identifier (table or column name), written into the SQL unquoted.
        public mutating func appendInterpolation(identifier: PostgresIdentifier) {
            sql += identifier.sql
        }

        /// Raw SQL text. It must contain no user-supplied values.
        public mutating func appendInterpolation(unsafeSQL fragment: String) {
            sql += fragment
        }
    }
}

/// A table or column name that is safe to write into SQL.
///
/// Names are plain SQL identifiers, optionally schema-qualified (`public.lasDetection`),
/// written unquoted, so they fold to lower case exactly like the names in `sql/` migrations
/// (`multiframeID` and `multiframeid` are the same column). Anything else is refused.
public struct PostgresIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let sql: String

    public init(_ name: String) throws {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy(Self.isPlainIdentifier) else {
            throw PostgresError(code: .invalidArgument,
                                message: "not a plain SQL identifier: '\(name)'")
        }
        sql = name
    }

    public var description: String { sql }

    static func isPlainIdentifier(_ part: Substring) -> Bool {
        guard let first = part.unicodeScalars.first, part.utf8.count <= 63 else { return false }
        func isLetter(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
        }
        return isLetter(first) && part.unicodeScalars.allSatisfy {
            isLetter($0) || ("0"..."9").contains($0) || $0 == "$"
        }
    }
}
