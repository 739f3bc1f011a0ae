public import Foundation

/// The lease as it stands (`wsa_lease_status()`), for status calls and metrics.
public struct LeaseStatus: Sendable, Hashable {
    /// Whether anyone holds the lease.
    public enum State: String, Sendable, Hashable {
        /// Never granted, or released.
        case free
        /// Held and not expired.
        case held
        /// Granted but expired: the next acquirer gets it.
        case expired
    }

    /// Free, held or expired (by the database's clock).
    public var state: State
    /// The holder's name (nil when free).
    public var holder: String?
    /// The current fencing token (0 before the first grant).
    public var token: FencingToken
    /// When the current (or last) lease was granted.
    public var grantedAt: Date?
    /// When its holder last sent a heartbeat.
    public var heartbeatAt: Date?
    /// When the lease expires unless renewed (nil when free).
    public var expiresAt: Date?
    /// When the last lease was released (nil while held, or when it expired instead).
    public var releasedAt: Date?
    /// The TTL the lease was granted or last renewed with.
    public var ttl: Duration?
    /// The database's time when it answered.
    public var databaseTime: Date

    public init(state: State, holder: String?, token: FencingToken, grantedAt: Date?, heartbeatAt: Date?,
                expiresAt: Date?, releasedAt: Date?, ttl: Duration?, databaseTime: Date) {
        self.state = state
        self.holder = holder
        self.token = token
        self.grantedAt = grantedAt
        self.heartbeatAt = heartbeatAt
        self.expiresAt = expiresAt
        self.releasedAt = releasedAt
        self.ttl = ttl
        self.databaseTime = databaseTime
    }
}
