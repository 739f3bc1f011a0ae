import Foundation

/// A fencing token: a number that only grows, one per grant of the write lease. Every write
/// carries the token of the lease it was made under.
public typealias FencingToken = Int64

/// A granted write lease. Times are the database's clock.
public struct LeaseGrant: Sendable, Hashable {
    /// Who holds the lease.
    public var holder: String
    /// The fencing token of this grant; every write under the lease must carry it.
    public var token: FencingToken
    /// When the lease was granted.
    public var grantedAt: Date
    /// When the lease expires unless a heartbeat extends it.
    public var expiresAt: Date
    /// The database's time when it answered.
    public var databaseTime: Date

    public init(holder: String, token: FencingToken, grantedAt: Date, expiresAt: Date,
                databaseTime: Date) {
        self.holder = holder
        self.token = token
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.databaseTime = databaseTime
    }

    /// How long the lease stays valid from the moment the database answered. A client adds it to
    /// the time it *sent* the request, which gives an expiry no later than the database's own.
    public var validFor: Duration { .seconds(max(0, expiresAt.timeIntervalSince(databaseTime))) }
}

/// A heartbeat's answer: the new expiry. Times are the database's clock.
public struct LeaseRenewal: Sendable, Hashable {
    /// The lease now expires at this time unless extended again.
    public var expiresAt: Date
    /// The database's time when it answered.
    public var databaseTime: Date

    public init(expiresAt: Date, databaseTime: Date) {
        self.expiresAt = expiresAt
        self.databaseTime = databaseTime
    }

    /// How long the lease stays valid from the moment the database answered.
    public var validFor: Duration { .seconds(max(0, expiresAt.timeIntervalSince(databaseTime))) }
}

/// Who holds the lease, as reported to a refused acquirer. Times are the database's clock.
public struct LeaseHolder: Sendable, Hashable {
    /// The holder's name.
    public var name: String
    /// The holder's fencing token.
    public var token: FencingToken
    /// When the holder was granted the lease.
    public var since: Date?
    /// When the holder's lease expires unless it sends a heartbeat.
    public var expiresAt: Date?
    /// The database's time when it answered.
    public var databaseTime: Date
    /// True when the lease has expired but the holder's fenced writes were still in flight, so
    /// it could not be granted yet.
    public var writesInFlight: Bool

    public init(name: String, token: FencingToken, since: Date?, expiresAt: Date?,
                databaseTime: Date, writesInFlight: Bool = false) {
        self.name = name
        self.token = token
        self.since = since
        self.expiresAt = expiresAt
        self.databaseTime = databaseTime
        self.writesInFlight = writesInFlight
    }

    /// How long until the holder's lease expires (zero when it already has).
    public var remaining: Duration {
        guard let expiresAt else { return .zero }
        return .seconds(max(0, expiresAt.timeIntervalSince(databaseTime)))
    }
}

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

    public var state: State
    /// The holder's name (nil when free).
    public var holder: String?
    /// The current fencing token (0 before the first grant).
    public var token: FencingToken
    public var grantedAt: Date?
    public var heartbeatAt: Date?
    public var expiresAt: Date?
    public var releasedAt: Date?
    /// The TTL the lease was granted or last renewed with.
    public var ttl: Duration?
    /// The database's time when it answered.
    public var databaseTime: Date
}

/// ISO 8601 UTC with milliseconds, for messages.
func isoTime(_ date: Date?) -> String {
    guard let date else { return "an unknown time" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}

extension Duration {
    /// The duration in seconds, as a Double (for interval parameters).
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
