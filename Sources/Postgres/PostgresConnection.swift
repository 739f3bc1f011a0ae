import CLibPQ
import Foundation

/// One connection to PostgreSQL over libpq. Calls block the calling thread.
///
/// Every call takes the connection's lock, so the connection may be handed between tasks and
/// threads, but it does one thing at a time: a `transaction` holds the lock for its whole body,
/// so other threads wait instead of interleaving their statements into it.
///
/// Each connection sets `DateStyle=ISO`, `TimeZone=UTC` (so timestamps decode without
/// ambiguity) and `jit=off` (JIT makes q3c queries hundreds of times slower).
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    let lock = NSRecursiveLock()
    private let notices = NoticeBox()
    private var savepointDepth = 0

    /// `user@host:port/database`, for messages (never contains a password).
    public let endpoint: String

    /// Connects using a libpq connection string (`host=… port=… dbname=… user=…`) or URL
    /// (`postgresql://user@host:port/db`). Environment variables (`PGHOST`, `PGPASSWORD`, …)
    /// fill in what is missing, as for every libpq program.
    public init(_ conninfo: String, applicationName: String = "wsa",
                connectTimeoutSeconds: Int = 10) throws {
        var parseError: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &parseError) else {
            let raw = parseError.map { String(cString: $0) } ?? "unparsable"
            if let parseError { PQfreemem(parseError) }
            throw PostgresError(code: .connectionFailed,
                                message: "invalid connection string: "
                                    + Self.redactQuoted(PostgresError.oneLine(raw)))
        }
        var secrets: [String] = []
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if String(cString: keyword) == "password", let value = cursor.pointee.val {
                secrets.append(String(cString: value))
            }
            cursor += 1
        }
        PQconninfoFree(options)

        // Our settings come first; the caller's connection string (expanded from `dbname`)
        // overrides them.
        let keywords = ["connect_timeout", "application_name", "client_encoding", "dbname"]
        let values = [String(connectTimeoutSeconds), applicationName, "UTF8", conninfo]
        let connection = withCStringArray(keywords) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let connection else {
            throw PostgresError(code: .connectionFailed, message: "cannot connect to PostgreSQL: out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            var message = PostgresError.oneLine(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            for secret in secrets where !secret.isEmpty {
                message = message.replacingOccurrences(of: secret, with: "********")
            }
            if message.isEmpty { message = "connection refused" }
            throw PostgresError(code: .connectionFailed, message: "cannot connect to PostgreSQL: \(message)")
        }
        handle = connection
        let host = String(cString: PQhost(connection))
        endpoint = "\(String(cString: PQuser(connection)))@\(host.hasPrefix("/") ? "[\(host)]" : host)"
            + ":\(String(cString: PQport(connection)))/\(String(cString: PQdb(connection)))"

        PQsetNoticeProcessor(connection, { arg, message in
            guard let arg, let message else { return }
            let box = Unmanaged<NoticeBox>.fromOpaque(arg).takeUnretainedValue()
            box.handler?(PostgresError.oneLine(String(cString: message)))
        }, Unmanaged.passUnretained(notices).toOpaque())

        do {
            try execute(unsafeSQL: "SET DateStyle TO ISO; SET TimeZone TO 'UTC'; SET jit TO off")
        } catch {
            close()
            throw error
        }
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection; later calls fail with `connectionClosed`. Closing twice is harmless.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// True while the connection is open and healthy.
    public var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server version as an integer, e.g. 150018.
    public var serverVersion: Int {
        lock.lock()
        defer { lock.unlock() }
        return handle.map { Int(PQserverVersion($0)) } ?? 0
    }

    /// The process id of the server backend serving this connection.
    public var backendPID: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return handle.map { PQbackendPID($0) } ?? 0
    }

    /// Receives the server's NOTICE/WARNING messages (discarded when nil). It is called in the
    /// middle of a libpq call, so it must not use the connection.
    public var noticeHandler: (@Sendable (String) -> Void)? {
        get { lock.lock(); defer { lock.unlock() }; return notices.handler }
        set { lock.lock(); defer { lock.unlock() }; notices.handler = newValue }
    }

    // MARK: Statements

    /// Runs one statement with its `$n` parameters and returns its rows.
    public func query(_ sql: String, _ params: [PostgresValue?]) throws -> PostgresRows {
        try run(sql, params)
    }

    /// Runs one statement whose interpolated values became bind parameters.
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        try run(query.sql, query.binds)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ params: [PostgresValue?]) throws -> Int {
        try run(sql, params).affectedRows
    }

    /// Runs one statement whose interpolated values became bind parameters, returning the
    /// number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try run(query.sql, query.binds).affectedRows
    }

    /// Runs SQL text that may hold several statements (a script), without parameters. The text
    /// must contain no user-supplied values. Returns the rows affected by the last statement.
    @discardableResult
    public func execute(unsafeSQL script: String) throws -> Int {
        try withHandle { handle in
            let result = PQexec(handle, script)
            return try checked(result, handle, code: .queryFailed, operation: nil, statement: script)
                .affectedRows
        }
    }

    /// The first column of the first row, decoded; fails when there is no row.
    public func queryValue<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery) throws -> T {
        let rows = try self.query(query)
        guard let row = rows.first else {
            throw PostgresError(code: .unexpectedResult, message: "the query returned no rows",
                                statement: query.sql)
        }
        return try row.decode(type, at: 0)
    }

    private func run(_ sql: String, _ params: [PostgresValue?]) throws -> PostgresRows {
        try withHandle { handle in
            let encoded = EncodedParameters(params)
            let result = encoded.withUnsafeParameters { count, types, values, lengths, formats in
                PQexecParams(handle, sql, count, types, values, lengths, formats, 0)
            }
            return try checked(result, handle, code: .queryFailed, operation: nil, statement: sql)
        }
    }

    /// Runs `body` with the open libpq handle while holding the lock.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else {
            throw PostgresError(code: .connectionClosed, message: "the connection is closed")
        }
        return try body(handle)
    }

    /// Turns a statement's result into rows, or into a `PostgresError` (freeing the result).
    func checked(_ result: OpaquePointer?, _ handle: OpaquePointer, code: PostgresError.Code,
                 operation: String?, statement: String?) throws -> PostgresRows {
        if let result {
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                return PostgresRows(result: result)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                abandonCopy(handle)
                throw PostgresError(code: .invalidArgument,
                                    message: "COPY to or from the client needs the copy functions",
                                    operation: operation, statement: statement)
            default:
                break
            }
        }
        let error = PostgresError.from(result: result, connection: handle, code: code,
                                       operation: operation, statement: statement)
        if let result { PQclear(result) }
        throw error
    }

    /// Ends a COPY that a plain statement started, so the connection is usable again.
    private func abandonCopy(_ handle: OpaquePointer) {
        _ = PQputCopyEnd(handle, "COPY through a plain statement is not supported")
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &buffer, 0) > 0 {
            PQfreemem(buffer)
        }
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    // MARK: Transactions

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Where the session stands with respect to transactions.
    public enum TransactionStatus: Sendable {
        case idle, active, inTransaction, failed, unknown
    }

    public var transactionStatus: TransactionStatus {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failed
        default: return .unknown
        }
    }

    /// Runs `body` in a transaction: BEGIN, then COMMIT when it returns, ROLLBACK when it throws.
    /// Called inside another transaction, it uses a savepoint, so only the inner work rolls back.
    /// A COMMIT that the server turns into a ROLLBACK (because a statement in the transaction
    /// failed and the error was swallowed) throws `transactionAborted`.
    @discardableResult
    public func transaction<T>(isolation: IsolationLevel? = nil, readOnly: Bool = false,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        switch transactionStatus {
        case .idle:
            var begin = "BEGIN"
            if let isolation { begin += " ISOLATION LEVEL \(isolation.rawValue)" }
            if readOnly { begin += " READ ONLY" }
            try execute(unsafeSQL: begin)
            let value: T
            do {
                value = try body(self)
            } catch {
                _ = try? execute(unsafeSQL: "ROLLBACK")
                throw error
            }
            let tag = try withHandle { handle in
                try checked(PQexec(handle, "COMMIT"), handle, code: .queryFailed,
                            operation: "COMMIT", statement: nil).commandTag
            }
            if tag == "ROLLBACK" {
                throw PostgresError(code: .transactionAborted,
                                    message: "the transaction was rolled back because a statement in it failed",
                                    operation: "COMMIT")
            }
            return value
        case .inTransaction:
            savepointDepth += 1
            defer { savepointDepth -= 1 }
            let name = "wsa_savepoint_\(savepointDepth)"
            try execute(unsafeSQL: "SAVEPOINT \(name)")
            let value: T
            do {
                value = try body(self)
            } catch {
                _ = try? execute(unsafeSQL: "ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
                throw error
            }
            try execute(unsafeSQL: "RELEASE SAVEPOINT \(name)")
            return value
        case .failed:
            throw PostgresError(code: .transactionAborted,
                                message: "the enclosing transaction has already failed",
                                sqlState: SQLState.inFailedSQLTransaction)
        case .active, .unknown:
            throw PostgresError(code: .connectionClosed, message: "the connection is not usable")
        }
    }

    // MARK: Session settings

    /// Sets a run-time parameter for the session (or only the current transaction when `local`).
    public func setParameter(_ name: String, to value: String, local: Bool = false) throws {
        try execute("SELECT set_config($1, $2, $3)", [.text(name), .text(value), .bool(local)])
    }

    /// The current value of a run-time parameter.
    public func parameter(_ name: String) throws -> String {
        try queryValue(String.self, "SELECT current_setting(\(name))")
    }

    /// Cancels any statement of this session that runs longer than `timeout` (nil: no limit).
    public func setStatementTimeout(_ timeout: Duration?) throws {
        try setParameter("statement_timeout", to: "\(timeout.map(Self.milliseconds) ?? 0)")
    }

    /// Gives up waiting for a lock after `timeout` (nil: wait for ever).
    public func setLockTimeout(_ timeout: Duration?) throws {
        try setParameter("lock_timeout", to: "\(timeout.map(Self.milliseconds) ?? 0)")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Advisory locks

    /// Runs `body` holding the session-level advisory lock `key`, waiting for it if needed.
    public func withAdvisoryLock<T>(_ key: Int64, _ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        try execute("SELECT pg_advisory_lock($1)", [.int64(key)])
        defer { _ = try? execute("SELECT pg_advisory_unlock($1)", [.int64(key)]) }
        return try body()
    }

    /// Takes the session-level advisory lock `key` if it is free; true when taken.
    public func tryAdvisoryLock(_ key: Int64) throws -> Bool {
        try queryValue(Bool.self, "SELECT pg_try_advisory_lock(\(key))")
    }

    /// Releases a session-level advisory lock taken with `tryAdvisoryLock`.
    public func advisoryUnlock(_ key: Int64) throws {
        try execute("SELECT pg_advisory_unlock($1)", [.int64(key)])
    }

    // MARK: Cancelling

    /// A handle that cancels this connection's running statement from another thread. Make it
    /// before starting the work (making it waits while the connection is busy).
    public func makeCancelHandle() throws -> PostgresCancelHandle {
        try withHandle { handle in
            guard let cancel = PQgetCancel(handle) else {
                throw PostgresError(code: .connectionClosed, message: "cannot make a cancel handle")
            }
            return PostgresCancelHandle(cancel)
        }
    }

    // MARK: Helpers

    /// Masks every double-quoted fragment, which is where libpq echoes parts of a bad
    /// connection string (possibly a password).
    static func redactQuoted(_ text: String) -> String {
        var out = "", inQuote = false
        for c in text {
            if c == "\"" {
                out.append(inQuote ? "…\"" : "\"")
                inQuote.toggle()
            } else if !inQuote {
                out.append(c)
            }
        }
        return out
    }
}

/// Cancels the running statement of a connection; safe to use from any thread.
public final class PostgresCancelHandle: @unchecked Sendable {
    private let raw: OpaquePointer

    init(_ raw: OpaquePointer) { self.raw = raw }
    deinit { PQfreeCancel(raw) }

    /// Asks the server to cancel the statement running now (if any); it fails with SQLSTATE 57014.
    public func cancel() throws {
        var buffer = [CChar](repeating: 0, count: 256)
        guard PQcancel(raw, &buffer, Int32(buffer.count)) == 1 else {
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw PostgresError(code: .queryFailed, message: "cannot cancel: \(message)")
        }
    }
}

final class NoticeBox: @unchecked Sendable {
    var handler: (@Sendable (String) -> Void)?
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicated.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
