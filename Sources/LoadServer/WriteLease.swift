import Curation
import Foundation
public import Postgres
public import RPCContract
import SystemSupport

/// The fenced write lease, kept in PostgreSQL (`CurationLock`, `sql/0002_lease.sql`).
///
/// One holder at a time gets the lease with a fencing token that only grows; the holder keeps
/// it alive with heartbeats and ends it with ``release(holder:token:)``; a holder that stops
/// beating loses it when it expires (by the database's clock). Every write runs through
/// ``withFencedWrite(token:_:)``, which checks the token inside the write's own transaction, so
/// a write carrying a stale token is refused and leaves nothing behind, however long its sender
/// paused.
///
/// A `WriteLease` works on one connection, and a connection does one thing at a time: give lease
/// control (acquire, heartbeat, release) its own `WriteLease`, and each concurrent writer its
/// own, so that a heartbeat never waits behind a long write.
///
/// ```swift
/// let control = WriteLease(connection: try PostgresConnection(conninfo))
/// let grant = try await control.acquire(holder: "cu4@curation1:4242", ttl: .seconds(30),
///                                       wait: .seconds(10))
/// let writer = WriteLease(connection: try PostgresConnection(conninfo))
/// try writer.withFencedWrite(token: grant.token) { db in
///     try db.execute("INSERT INTO Quarantine (fileName, reason, cuEventID) VALUES (\(name), \(why), \(id))")
/// }
/// _ = try control.heartbeat(holder: grant.holder, token: grant.token)
/// try control.release(holder: grant.holder, token: grant.token)
/// ```
public final class WriteLease: Sendable {
    /// The connection this lease works on.
    public let connection: PostgresConnection

    /// How long one acquire attempt waits for an expired holder's fenced writes still in
    /// flight before it reports the lease busy.
    public let lockWait: Duration

    /// Works on `connection`, whose database must have the `0002_lease` migration applied.
    public init(connection: PostgresConnection, lockWait: Duration = .seconds(2)) {
        self.connection = connection
        self.lockWait = lockWait
    }

    /// What one acquire attempt gave.
    public enum Attempt: Sendable, Hashable {
        /// The lease is ours.
        case granted(LeaseGrant)
        /// Someone else holds it (or its writes are still in flight).
        case refused(LeaseHolder)
    }

    /// One attempt to get the lease for `holder` for `ttl`, without waiting for its holder.
    /// Throws ``LoadServerError`` for a bad name or TTL or a database failure.
    public func tryAcquire(holder: String, ttl: Duration, lockWait: Duration? = nil) throws -> Attempt {
        try Self.checkName(holder)
        try Self.checkTTL(ttl)
        let wait = lockWait ?? self.lockWait
        return try LoadServerError.mapping("acquire the write lease") {
            let rows = try connection.query("""
                SELECT granted, busy, holder, fencing_token, granted_at, expires_at, db_now
                FROM wsa_lease_acquire($1, $2::double precision * interval '1 second',
                                       $3::double precision * interval '1 second')
                """, [.text(holder), .float64(ttl.secondsValue), .float64(max(0.001, wait.secondsValue))])
            guard let row = rows.first else {
                throw PostgresError(code: .unexpectedResult, message: "wsa_lease_acquire returned no row")
            }
            let token = try row.decode(Int64.self, "fencing_token")
            let databaseTime = try row.decode(Date.self, "db_now")
            if try row.decode(Bool.self, "granted") {
                return .granted(LeaseGrant(holder: holder, token: token,
                                           grantedAt: try row.decode(Date.self, "granted_at"),
                                           expiresAt: try row.decode(Date.self, "expires_at"),
                                           databaseTime: databaseTime))
            }
            return .refused(LeaseHolder(name: try row.decode(String?.self, "holder") ?? "nobody",
                                        token: token,
                                        since: try row.decode(Date?.self, "granted_at"),
                                        expiresAt: try row.decode(Date?.self, "expires_at"),
                                        databaseTime: databaseTime,
                                        writesInFlight: try row.decode(Bool.self, "busy")))
        }
    }

    /// Gets the lease for `holder` for `ttl` (renewed by heartbeats), waiting up to `wait` for
    /// the current holder to release it or let it expire: polls with a backoff of 50 ms doubling
    /// to 1 s, never sleeping past the holder's expiry or the deadline. Throws ``LoadServerError``
    /// with code ``LoadServerError/Code/leaseHeld`` naming the holder, since and until when,
    /// when the wait ends without the lease; `CancellationError` when the task is cancelled.
    ///
    /// A holder that already holds the lease is refused like anyone else: holder names should
    /// be unique per process (e.g. `cu4@host:pid`).
    public func acquire(holder: String, ttl: Duration, wait: Duration = .zero) async throws -> LeaseGrant {
        try await Self.acquire(wait: wait, lockWait: lockWait) { attemptWait in
            try self.tryAcquire(holder: holder, ttl: ttl, lockWait: attemptWait)
        }
    }

    /// The waiting of ``acquire(holder:ttl:wait:)`` around any way of making one attempt:
    /// `attempt` is given how long that attempt may wait for writes in flight (at most
    /// `lockWait`, never past the deadline).
    static func acquire(wait: Duration, lockWait: Duration,
                        attempt: (Duration) async throws -> Attempt) async throws -> LeaseGrant {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: max(.zero, wait))
        var backoff = Duration.milliseconds(50)
        while true {
            let remaining = clock.now.duration(to: deadline)
            switch try await attempt(min(lockWait, max(.milliseconds(1), remaining))) {
            case .granted(let grant):
                return grant
            case .refused(let current):
                let left = clock.now.duration(to: deadline)
                guard left > .zero else { throw Self.heldError(current, waited: wait) }
                var pause = min(backoff, left)
                if !current.writesInFlight, current.expiresAt != nil {
                    // Wake just after the holder's lease would expire, if that comes first.
                    pause = min(pause, current.remaining + .milliseconds(10))
                }
                try await Task.sleep(for: max(pause, .milliseconds(5)))
                backoff = min(backoff * 2, .seconds(1))
            }
        }
    }

    /// Extends the lease of `token` to now + `ttl` (nil: the TTL it was granted with). Throws
    /// ``LoadServerError`` with ``LoadServerError/Code/staleToken`` (a newer lease was granted,
    /// or `holder` does not match), ``LoadServerError/Code/leaseExpired`` (an expired lease is
    /// never revived: acquire again) or ``LoadServerError/Code/leaseReleased``.
    /// A heartbeat does not wait for fenced writes in flight.
    @discardableResult
    public func heartbeat(holder: String, token: FencingToken, ttl: Duration? = nil) throws -> LeaseRenewal {
        try Self.checkName(holder)
        if let ttl { try Self.checkTTL(ttl) }
        return try LoadServerError.mapping("renew the write lease") {
            let rows = try connection.query("""
                SELECT expires_at, db_now
                FROM wsa_lease_heartbeat($1, $2, $3::double precision * interval '1 second')
                """, [.text(holder), .int64(token), ttl.map { PostgresValue.float64($0.secondsValue) }])
            guard let row = rows.first else {
                throw PostgresError(code: .unexpectedResult, message: "wsa_lease_heartbeat returned no row")
            }
            return LeaseRenewal(expiresAt: try row.decode(Date.self, "expires_at"),
                                databaseTime: try row.decode(Date.self, "db_now"))
        }
    }

    /// Ends the lease of `token`. Returns true when this call released it, false when it was
    /// already released (releasing twice is harmless). Throws ``LoadServerError`` with
    /// ``LoadServerError/Code/staleToken`` when a newer lease was granted since: the caller had
    /// lost the lease, and its later writes were refused.
    @discardableResult
    public func release(holder: String, token: FencingToken) throws -> Bool {
        try Self.checkName(holder)
        return try LoadServerError.mapping("release the write lease") {
            try connection.queryValue(Bool.self, "SELECT wsa_lease_release(\(holder), \(token))")
        }
    }

    /// The lease as it stands.
    public func status() throws -> LeaseStatus {
        try LoadServerError.mapping("read the write lease") {
            let rows = try connection.query("""
                SELECT state, holder, fencing_token, granted_at, heartbeat_at, expires_at,
                       released_at, extract(epoch FROM lease_ttl)::double precision AS ttl_seconds,
                       db_now
                FROM wsa_lease_status()
                """)
            guard let row = rows.first else {
                throw PostgresError(code: .unexpectedResult, message: "wsa_lease_status returned no row")
            }
            let state = try row.decode(String.self, "state")
            guard let parsed = LeaseStatus.State(rawValue: state) else {
                throw PostgresError(code: .unexpectedResult, message: "unknown lease state '\(state)'")
            }
            return LeaseStatus(state: parsed,
                               holder: try row.decode(String?.self, "holder"),
                               token: try row.decode(Int64.self, "fencing_token"),
                               grantedAt: try row.decode(Date?.self, "granted_at"),
                               heartbeatAt: try row.decode(Date?.self, "heartbeat_at"),
                               expiresAt: try row.decode(Date?.self, "expires_at"),
                               releasedAt: try row.decode(Date?.self, "released_at"),
                               ttl: try row.decode(Double?.self, "ttl_seconds").map { Duration.seconds($0) },
                               databaseTime: try row.decode(Date.self, "db_now"))
        }
    }

    /// Runs `body` in a transaction on this lease's connection whose first statement is the
    /// write fence (`wsa_lease_fence(token)`), checks the fence again just before COMMIT, and
    /// commits. When `token` is not the current token of a live lease the fence throws
    /// ``LoadServerError`` (``LoadServerError/Code/staleToken``, ``LoadServerError/Code/leaseExpired``
    /// or ``LoadServerError/Code/leaseReleased``) and nothing is written: before `body` runs,
    /// or, when the lease expired or was released while `body` ran (its holder stopped
    /// beating), at the end, rolling back what `body` wrote.
    ///
    /// The first check keeps the lease row locked (FOR KEY SHARE) until the transaction ends, so
    /// no newer grant can commit before this write does; writers with the same token do not
    /// wait for each other, and the holder's heartbeats do not wait for them.
    ///
    /// Errors `body` throws roll the transaction back and reach the caller unchanged, except
    /// database errors carrying a lease SQLSTATE, a lost connection, and a failed BEGIN or
    /// COMMIT, which become ``LoadServerError``. Called while the connection is already in a
    /// transaction, the fence and `body` join it (in a savepoint) and the lock lasts until that
    /// outer transaction ends.
    @discardableResult
    public func withFencedWrite<T>(token: FencingToken,
                                   _ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try connection.transaction { db in
                try Self.checkFence(token: token, on: db)
                let value = try body(db)
                try Self.checkFence(token: token, on: db)
                return value
            }
        } catch let error as PostgresError {
            if let lease = LoadServerError.lease(from: error) { throw lease }
            if error.code == .transactionAborted || error.operation == "COMMIT"
                || error.statement?.hasPrefix("BEGIN") == true
                || error.code == .connectionClosed || error.code == .connectionFailed {
                throw LoadServerError.from(error, operation: "commit the fenced write")
            }
            throw error
        }
    }

    /// The write fence on its own, for callers that run their own transaction: returns the
    /// holder's name when `token` is the current token of a live lease, and throws
    /// ``LoadServerError`` otherwise. Call it first in the transaction; the lease row stays
    /// locked (FOR KEY SHARE) until the transaction ends. Outside a transaction the check holds
    /// only for that instant.
    @discardableResult
    public static func checkFence(token: FencingToken, on connection: PostgresConnection) throws -> String {
        try LoadServerError.mapping("check the write fence") {
            try connection.queryValue(String.self, "SELECT wsa_lease_fence(\(token))")
        }
    }

    // MARK: Helpers

    static func heldError(_ current: LeaseHolder, waited: Duration) -> LoadServerError {
        let waitedText = waited > .zero ? " (waited \(Self.format(waited)))" : ""
        let message: String
        if current.writesInFlight {
            message = "the write lease of \"\(current.name)\" (token \(current.token)) expired at "
                + "\(isoTime(current.expiresAt)) but its writes are still in flight\(waitedText)"
        } else {
            message = "the write lease is held by \"\(current.name)\" since \(isoTime(current.since)) "
                + "until \(isoTime(current.expiresAt)) (token \(current.token))\(waitedText)"
        }
        return LoadServerError(.leaseHeld, message, holder: current)
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.secondsValue
        return seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms"
                           : String(format: "%.1f s", seconds)
    }

    static func checkName(_ holder: String) throws {
        guard !holder.trimmingCharacters(in: .whitespaces).isEmpty, holder.count <= 256 else {
            throw LoadServerError(.invalidArgument, "a lease holder name must be 1 to 256 characters")
        }
    }

    static func checkTTL(_ ttl: Duration) throws {
        guard ttl > .zero, ttl <= .seconds(86_400) else {
            throw LoadServerError(.invalidArgument,
                                  "a lease TTL must be more than 0 and at most 1 day, not \(format(ttl))")
        }
    }
}
