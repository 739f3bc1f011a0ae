public import Foundation

/// A heartbeat's answer: the new expiry. Times are the database's clock.
public struct LeaseRenewal: Sendable, Hashable {
    /// The lease now expires at this time unless extended again.
    public var expiresAt: Date
    /// The database's time when it answered.
    public var databaseTime: Date

    /// A renewal as the database reported it.
    public init(expiresAt: Date, databaseTime: Date) {
        self.expiresAt = expiresAt
        self.databaseTime = databaseTime
    }

    /// How long the lease stays valid from the moment the database answered.
    public var validFor: Duration { .seconds(max(0, expiresAt.timeIntervalSince(databaseTime))) }
}
