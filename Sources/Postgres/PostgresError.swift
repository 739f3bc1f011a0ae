import CLibPQ

/// The one error type of the PostgreSQL layer.
///
/// `code` is stable and says what kind of operation failed; `sqlState` is the server's SQLSTATE
/// when the server reported the error. `description` is safe to show to users (it never carries
/// a password or a connection string); `debugDescription` adds everything else known.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A stable error category, suitable for mapping onto fault codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Could not establish a connection (or the connection string is invalid).
        public static let connectionFailed = Code("connectionFailed")
        /// The connection was closed or lost.
        public static let connectionClosed = Code("connectionClosed")
        /// A statement failed.
        public static let queryFailed = Code("queryFailed")
        /// A COPY failed.
        public static let copyFailed = Code("copyFailed")
        /// A COMMIT was turned into a ROLLBACK because the transaction had already failed.
        public static let transactionAborted = Code("transactionAborted")
        /// The server answered with something the caller did not expect (e.g. no rows).
        public static let unexpectedResult = Code("unexpectedResult")
        /// A result value could not be decoded as the requested Swift type.
        public static let decodingFailed = Code("decodingFailed")
        /// No column of that name or index in the result.
        public static let columnNotFound = Code("columnNotFound")
        /// The caller passed something unusable (e.g. an invalid identifier).
        public static let invalidArgument = Code("invalidArgument")
        /// A file could not be read.
        public static let fileError = Code("fileError")
        /// A migration file is badly named, duplicated or unreadable.
        public static let migrationInvalid = Code("migrationInvalid")
        /// A migration that was already applied has changed on disk.
        public static let migrationChanged = Code("migrationChanged")
        /// A migration failed while being applied (rolled back).
        public static let migrationFailed = Code("migrationFailed")
    }

    public var code: Code
    /// The server's primary message, or ours when the error did not come from the server.
    public var message: String
    /// Five-character SQLSTATE (e.g. `23505`) when the server reported one.
    public var sqlState: String?
    public var severity: String?
    public var detail: String?
    public var hint: String?
    /// Character position (1-based) of the error in the statement text, when reported.
    public var position: Int?
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    public var constraintName: String?
    /// Where in the server the error arose (PL/pgSQL context and the like).
    public var context: String?
    /// Which operation of ours failed (e.g. `query`, `COPY lasdetection`).
    public var operation: String?
    /// The statement text (SQL with `$n` parameter markers, never their values); debug only.
    public var statement: String?

    public init(code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
                hint: String? = nil, operation: String? = nil, statement: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.operation = operation
        self.statement = statement
    }

    public var description: String {
        var text = message
        if let operation { text = "\(operation): \(text)" }
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    public var debugDescription: String {
        var parts = ["PostgresError.\(code.name)"]
        if let severity { parts.append("severity: \(severity)") }
        if let sqlState { parts.append("sqlState: \(sqlState)") }
        if let operation { parts.append("operation: \(operation)") }
        parts.append("message: \(message)")
        if let detail { parts.append("detail: \(detail)") }
        if let hint { parts.append("hint: \(hint)") }
        if let position { parts.append("position: \(position)") }
        if let schemaName { parts.append("schema: \(schemaName)") }
        if let tableName { parts.append("table: \(tableName)") }
        if let columnName { parts.append("column: \(columnName)") }
        if let constraintName { parts.append("constraint: \(constraintName)") }
        if let context { parts.append("context: \(context)") }
        if let statement { parts.append("statement: \(statement)") }
        return parts.joined(separator: "; ")
    }
}

/// Well-known SQLSTATE values.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let notNullViolation = "23502"
    public static let checkViolation = "23514"
    public static let undefinedTable = "42P01"
    public static let undefinedColumn = "42703"
    public static let syntaxError = "42601"
    public static let insufficientPrivilege = "42501"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let queryCanceled = "57014"
    public static let lockNotAvailable = "55P03"
    public static let readOnlySQLTransaction = "25006"
    public static let inFailedSQLTransaction = "25P02"
    public static let invalidPassword = "28P01"
    public static let invalidAuthorization = "28000"
    public static let invalidCatalogName = "3D000"
    public static let badCopyFileFormat = "22P04"
}

extension PostgresError {
    /// Builds the error for a failed libpq call from its result (which may be nil when libpq
    /// could not even allocate one, e.g. the connection is gone) and the connection's message.
    /// This is the one place where a `PGresult` becomes a Swift error.
    static func from(result: OpaquePointer?, connection: OpaquePointer?, code: Code,
                     operation: String?, statement: String?) -> PostgresError {
        func field(_ letter: Unicode.Scalar) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(letter.value)) else {
                return nil
            }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        var message = field("M")
        if message == nil, let result, let raw = PQresultErrorMessage(result) {
            message = oneLine(String(cString: raw))
        }
        if message == nil || message!.isEmpty, let connection, let raw = PQerrorMessage(connection) {
            message = oneLine(String(cString: raw))
        }
        if message == nil || message!.isEmpty {
            message = result == nil ? "no result from the server (connection lost?)"
                                    : "unexpected result status \(statusName(result!))"
        }
        var finalCode = code
        if let connection, PQstatus(connection) == CONNECTION_BAD, field("C") == nil {
            finalCode = .connectionClosed
        }
        var error = PostgresError(code: finalCode, message: message!, sqlState: field("C"),
                                  detail: field("D"), hint: field("H"),
                                  operation: operation, statement: statement)
        error.severity = field("V") ?? field("S")
        error.position = field("P").flatMap { Int($0) }
        error.schemaName = field("s")
        error.tableName = field("t")
        error.columnName = field("c")
        error.constraintName = field("n")
        error.context = field("W")
        return error
    }

    static func statusName(_ result: OpaquePointer) -> String {
        String(cString: PQresStatus(PQresultStatus(result)))
    }

    /// libpq messages end in a newline and continue on tab-indented lines; make them one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmed(of: " \t") }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

extension StringProtocol {
    func trimmed(of set: String) -> String {
        let chars = Set(set)
        var slice = Substring(self)
        while let first = slice.first, chars.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, chars.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
