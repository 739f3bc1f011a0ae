import Foundation
public import Postgres
public import RPCContract
public import XMLRPC

/// The one error type of the load server layer (the write lease and its fence).
///
/// `code` is stable and maps one to one onto an XML-RPC `faultCode` (``fault``). Codes are
/// 2001–2999, outside the range the XML-RPC layer reserves (-32768…-32000) and apart from the
/// Curation layer's 1001–1999, so one server can send both without ambiguity.
/// `description` is safe to show to a caller (no connection strings, no SQL);
/// `debugDescription` adds the database's own error for logs.
public struct LoadServerError: Error, Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// A stable error code; `rawValue` is the XML-RPC `faultCode`. The codes are the contract's
    /// (``ServerFault``), shared with the client.
    public typealias Code = ServerFault

    /// What went wrong.
    public var code: Code
    /// One line, safe to show to a caller.
    public var message: String
    /// For ``Code/leaseHeld``: the lease as it stood when the request was refused.
    public var holder: LeaseHolder?
    /// The database's SQLSTATE, when the error came from PostgreSQL.
    public var sqlState: String?
    /// Technical detail for logs only (the database error in full); never sent to a caller.
    public var detail: String?

    /// An error with a code, a caller-safe message, and optionally the lease holder (for
    /// ``Code/leaseHeld``), the SQLSTATE and log-only detail.
    public init(_ code: Code, _ message: String, holder: LeaseHolder? = nil,
                sqlState: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.holder = holder
        self.sqlState = sqlState
        self.detail = detail
    }

    /// The XML-RPC fault this error is sent as (the detail stays behind).
    public var fault: XMLRPCFault { XMLRPCFault(code: code.rawValue, string: message) }

    /// True when the caller's lease is gone for good (stale, expired or released token): stop
    /// writing and acquire the lease again.
    public var isLeaseLost: Bool { code.isLeaseLost }

    public var description: String { message }

    public var debugDescription: String {
        var text = "[\(code.rawValue) \(code)] \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += " — \(detail)" }
        return text
    }
}

extension LoadServerError {
    /// SQLSTATEs raised by the lease functions of `sql/0002_lease.sql`.
    public enum LeaseSQLState {
        /// A stale fencing token (or a holder name that does not match the token).
        public static let staleToken = "WS001"
        /// The token's lease has expired.
        public static let expired = "WS002"
        /// The token's lease was released.
        public static let released = "WS003"
    }

    /// The lease error a PostgreSQL error stands for, or nil when it is not one of the lease's
    /// SQLSTATEs.
    public static func lease(from error: PostgresError) -> LoadServerError? {
        let code: Code
        switch error.sqlState {
        case LeaseSQLState.staleToken?: code = .staleToken
        case LeaseSQLState.expired?: code = .leaseExpired
        case LeaseSQLState.released?: code = .leaseReleased
        default: return nil
        }
        return LoadServerError(code, error.message, sqlState: error.sqlState,
                               detail: error.debugDescription)
    }

    /// The one place a database error becomes a load server error. The lease's own SQLSTATEs
    /// keep their meaning; bad arguments are ``Code/invalidArgument``; a lost or refused
    /// connection is ``Code/databaseUnavailable``; anything else is ``Code/databaseError``
    /// with `operation` (what we were doing) in the message.
    public static func from(_ error: PostgresError, operation: String) -> LoadServerError {
        if let lease = lease(from: error) { return lease }
        if error.sqlState == "22023" {
            return LoadServerError(.invalidArgument, error.message, sqlState: error.sqlState,
                                   detail: error.debugDescription)
        }
        if error.code == .connectionFailed || error.code == .connectionClosed {
            return LoadServerError(.databaseUnavailable, "\(operation): the database is unavailable",
                                   sqlState: error.sqlState, detail: error.debugDescription)
        }
        return LoadServerError(.databaseError, "\(operation) failed: \(error.description)",
                               sqlState: error.sqlState, detail: error.debugDescription)
    }

    /// Runs `body`, turning a `PostgresError` it throws into a `LoadServerError`.
    static func mapping<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw from(error, operation: operation)
        }
    }
}
