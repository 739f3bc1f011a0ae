import Foundation
import Postgres
import XMLRPC

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
    /// A stable error code; `rawValue` is the XML-RPC `faultCode`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// 2001: another holder has the write lease (``LoadServerError/holder`` says who, since
        /// and until when), or the lease expired but its holder's writes are still in flight.
        public static let leaseHeld = Code(rawValue: 2001)
        /// 2002: the fencing token is not the current one: a newer lease was granted since (or
        /// the holder name does not match the token). Nothing was written.
        public static let staleToken = Code(rawValue: 2002)
        /// 2003: the token's lease has expired (its holder stopped sending heartbeats).
        public static let leaseExpired = Code(rawValue: 2003)
        /// 2004: the token's lease was released.
        public static let leaseReleased = Code(rawValue: 2004)
        /// 2005: an unusable argument (empty or over-long holder name, TTL not in (0, 1 day]).
        public static let invalidArgument = Code(rawValue: 2005)
        /// 2006: no open step (run) with that cuEventID: it was never begun, has ended, or was
        /// rolled back (its lease was lost, or the server restarted).
        public static let unknownStep = Code(rawValue: 2006)
        /// 2007: the transaction file is not in the server's spool: upload it, then retry.
        public static let transactionFileMissing = Code(rawValue: 2007)
        /// 2008: the transaction file was refused (checksum, size, row count, columns or target
        /// table do not match); nothing was written.
        public static let transactionFileRefused = Code(rawValue: 2008)
        /// 2009: the step was rolled back (its commit or one of its loads failed, or its lease
        /// was lost): none of its writes is visible.
        public static let stepRolledBack = Code(rawValue: 2009)
        /// 2012: the caller's role may not call this method.
        public static let forbidden = Code(rawValue: 2012)
        /// 2013: the server is at its limit of open steps or is shutting down; retry later.
        public static let busy = Code(rawValue: 2013)
        /// 2010: the database cannot be reached or the connection was lost.
        public static let databaseUnavailable = Code(rawValue: 2010)
        /// 2011: the database refused or failed a statement for another reason.
        public static let databaseError = Code(rawValue: 2011)

        /// Every code of this layer, for documentation and `system.methodHelp`.
        public static let all: [Code] = [
            .leaseHeld, .staleToken, .leaseExpired, .leaseReleased, .invalidArgument,
            .unknownStep, .transactionFileMissing, .transactionFileRefused, .stepRolledBack,
            .databaseUnavailable, .databaseError, .forbidden, .busy,
        ]

        public var description: String {
            switch self {
            case .leaseHeld: "leaseHeld"
            case .staleToken: "staleToken"
            case .leaseExpired: "leaseExpired"
            case .leaseReleased: "leaseReleased"
            case .invalidArgument: "invalidArgument"
            case .unknownStep: "unknownStep"
            case .transactionFileMissing: "transactionFileMissing"
            case .transactionFileRefused: "transactionFileRefused"
            case .stepRolledBack: "stepRolledBack"
            case .forbidden: "forbidden"
            case .busy: "busy"
            case .databaseUnavailable: "databaseUnavailable"
            case .databaseError: "databaseError"
            default: "code\(rawValue)"
            }
        }
    }

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
    public var isLeaseLost: Bool {
        code == .staleToken || code == .leaseExpired || code == .leaseReleased
    }

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
