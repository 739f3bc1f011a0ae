public import Foundation

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

    /// The holder as the database reported it.
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
