public import Foundation

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
    /// How long the server waited for another holder before it granted the lease (measured by
    /// the server, from the request's arrival to the grant): the client's lease cannot have
    /// been granted before it sent the request plus this.
    public var waited: Duration

    /// A grant as the database reported it.
    public init(holder: String, token: FencingToken, grantedAt: Date, expiresAt: Date,
                databaseTime: Date, waited: Duration = .zero) {
        self.holder = holder
        self.token = token
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.databaseTime = databaseTime
        self.waited = waited
    }

    /// How long the lease stays valid from the moment the database answered. A client adds it to
    /// the time it *sent* the request, which gives an expiry no later than the database's own.
    public var validFor: Duration { .seconds(max(0, expiresAt.timeIntervalSince(databaseTime))) }
}
