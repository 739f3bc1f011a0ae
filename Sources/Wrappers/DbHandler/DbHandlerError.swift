import XMLRPC

/// What went wrong talking to dbrpcserver: one line a person can act on. `code` is the
/// server's fault code when the server refused the call (e.g. 2001 lease held, 2002 stale
/// token, 2007 transaction file missing), or one of the client's own codes (3301–3305).
public struct DbHandlerError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The server cannot be reached, or the HTTP exchange failed.
        public static let unreachable = Code(rawValue: 3301)
        /// The server refused the credentials (HTTP 401) or the role (403).
        public static let notAuthorized = Code(rawValue: 3302)
        /// The server answered something that is not an XML-RPC response.
        public static let badResponse = Code(rawValue: 3303)
        /// The client holds no lease, or lost it (heartbeats refused or not answered in time).
        public static let noLease = Code(rawValue: 3304)
        /// A configuration value (URL, credentials) is unusable.
        public static let configuration = Code(rawValue: 3305)
        /// Fault codes of the server (LoadServerError).
        public static let leaseHeld = Code(rawValue: 2001)
        public static let staleToken = Code(rawValue: 2002)
        public static let leaseExpired = Code(rawValue: 2003)
        public static let leaseReleased = Code(rawValue: 2004)
        public static let unknownStep = Code(rawValue: 2006)
        public static let transactionFileMissing = Code(rawValue: 2007)
        public static let transactionFileRefused = Code(rawValue: 2008)
        public static let stepRolledBack = Code(rawValue: 2009)
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(fault: XMLRPCFault, method: String) {
        self.init(Code(rawValue: fault.code), "\(method): \(fault.string)")
    }

    /// True when the lease this error came under is gone (a new writeLock is needed).
    public var isLeaseLost: Bool {
        [.staleToken, .leaseExpired, .leaseReleased, .noLease].contains(code)
    }

    public var description: String { message }
}
