/// dbrpcserver's fault codes: the XML-RPC `faultCode` of every refusal of the load server, one
/// list for both ends of the wire (`LoadServerError.Code` on the server, ``WrapperError``'s
/// `fault` on the client).
///
/// Codes are 2001–2999, outside the range the XML-RPC layer reserves (-32768…-32000) and apart
/// from the Curation layer's 1001–1999 and the wrapper layer's 3101–3999.
public struct ServerFault: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// 2001: another holder has the write lease (the message says who, since and until when),
    /// or the lease expired but its holder's writes are still in flight.
    public static let leaseHeld = ServerFault(rawValue: 2001)
    /// 2002: the fencing token is not the current one: a newer lease was granted since (or the
    /// holder name does not match the token). Nothing was written.
    public static let staleToken = ServerFault(rawValue: 2002)
    /// 2003: the token's lease has expired (its holder stopped sending heartbeats).
    public static let leaseExpired = ServerFault(rawValue: 2003)
    /// 2004: the token's lease was released.
    public static let leaseReleased = ServerFault(rawValue: 2004)
    /// 2005: an unusable argument (empty or over-long holder name, TTL not in (0, 1 day]).
    public static let invalidArgument = ServerFault(rawValue: 2005)
    /// 2006: no open step (run) with that cuEventID: it was never begun, has ended, or was
    /// rolled back (its lease was lost, or the server restarted).
    public static let unknownStep = ServerFault(rawValue: 2006)
    /// 2007: the transaction file is not in the server's spool: upload it, then retry.
    public static let transactionFileMissing = ServerFault(rawValue: 2007)
    /// 2008: the transaction file was refused (checksum, size, row count, columns or target
    /// table do not match); nothing was written.
    public static let transactionFileRefused = ServerFault(rawValue: 2008)
    /// 2009: the step was rolled back (its commit or one of its loads failed, or its lease was
    /// lost): none of its writes is visible.
    public static let stepRolledBack = ServerFault(rawValue: 2009)
    /// 2010: the database cannot be reached or the connection was lost.
    public static let databaseUnavailable = ServerFault(rawValue: 2010)
    /// 2011: the database refused or failed a statement for another reason.
    public static let databaseError = ServerFault(rawValue: 2011)
    /// 2012: the caller's role may not call this method.
    public static let forbidden = ServerFault(rawValue: 2012)
    /// 2013: the server is at its limit of open steps or is shutting down; retry later.
    public static let busy = ServerFault(rawValue: 2013)

    /// Every fault of the load server, for documentation and `system.methodHelp`.
    public static let all: [ServerFault] = [
        .leaseHeld, .staleToken, .leaseExpired, .leaseReleased, .invalidArgument,
        .unknownStep, .transactionFileMissing, .transactionFileRefused, .stepRolledBack,
        .databaseUnavailable, .databaseError, .forbidden, .busy,
    ]

    /// The fault a code stands for, when it is one of the load server's.
    public init?(code: Int) {
        guard Self.all.contains(ServerFault(rawValue: code)) else { return nil }
        self.init(rawValue: code)
    }

    /// True for the faults that mean the caller's lease is gone for good (stale, expired or
    /// released token): stop writing and acquire the lease again.
    public var isLeaseLost: Bool { self == .staleToken || self == .leaseExpired || self == .leaseReleased }

    public var name: String {
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
        case .databaseUnavailable: "databaseUnavailable"
        case .databaseError: "databaseError"
        case .forbidden: "forbidden"
        case .busy: "busy"
        default: "code\(rawValue)"
        }
    }

    public var description: String { name }
}
