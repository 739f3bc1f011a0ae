/// The client side of the write lease as a pure state machine: a value type with no I/O and no
/// clock of its own. A driver (the client's `DbHandler`) feeds it events with the current time
/// and carries out the ``Action`` each event returns: send a request, wake up later, or stop the
/// work because the lease is lost.
///
/// ```
/// idle ──acquireRequested──▶ acquiring ──acquireSucceeded──▶ held ◀──heartbeatSucceeded──┐
///   ▲                           │ acquireFailed               │ timerFired (beat due)    │
///   └───────────────────────────┘                             ▼                          │
///                                                          renewing ─────────────────────┘
///  held / renewing ──timer past expiry, refused heartbeat or refused write──▶ lost (stopWork)
///  held / renewing ──releaseRequested──▶ releasing ──releaseFinished──▶ released
/// ```
///
/// Times are local and monotonic (`Instant`, e.g. `ContinuousClock.Instant`; tests inject their
/// own). The lease's local expiry is the time a request was *sent* plus the validity the database
/// reported, which is never later than the database's own expiry. Events that make no sense in
/// the current state (a late answer, a second release) change nothing and return ``Action/none``.
public struct LeaseState<Instant: InstantProtocol>: Sendable, Hashable
where Instant.Duration == Duration {
    /// Timing policy.
    public struct Configuration: Sendable, Hashable {
        /// Send a heartbeat once this fraction of the lease's validity has passed (0 < f < 1).
        public var heartbeatFraction: Double
        /// After a heartbeat that failed for a transient reason (network, server restarting),
        /// try again this soon (never later than the expiry).
        public var retryDelay: Duration
        /// ``LeaseState/token(forWriteAt:)`` stops handing out the token this long before the
        /// local expiry, so a write does not start on a lease about to run out.
        public var safetyMargin: Duration

        /// The defaults beat every third of the validity, retry after 1 s and stop handing out
        /// the token 250 ms before the expiry.
        public init(heartbeatFraction: Double = 1.0 / 3.0, retryDelay: Duration = .seconds(1),
                    safetyMargin: Duration = .milliseconds(250)) {
            precondition(heartbeatFraction > 0 && heartbeatFraction < 1,
                         "heartbeatFraction must lie strictly between 0 and 1")
            self.heartbeatFraction = heartbeatFraction
            self.retryDelay = retryDelay
            self.safetyMargin = safetyMargin
        }
    }

    /// A lease the client holds, as it knows it locally.
    public struct Lease: Sendable, Hashable {
        /// The fencing token every write must carry.
        public var token: FencingToken
        /// The local time by which the lease has surely expired unless renewed.
        public var expiresAt: Instant
        /// When the next heartbeat is due.
        public var heartbeatDueAt: Instant

        public init(token: FencingToken, expiresAt: Instant, heartbeatDueAt: Instant) {
            self.token = token
            self.expiresAt = expiresAt
            self.heartbeatDueAt = heartbeatDueAt
        }
    }

    /// Why a lease was lost.
    public enum LossReason: Sendable, Hashable {
        /// Its local expiry passed without a successful heartbeat.
        case expired
        /// The server refused a heartbeat or a write (stale token, expired or released lease).
        case refused(ServerFault)
    }

    /// Where the client stands.
    public enum State: Sendable, Hashable {
        /// No lease, none asked for.
        case idle
        /// An acquire request is in flight since `sentAt`; when `releaseWhenGranted`, a release
        /// was asked for meanwhile and the lease is given back as soon as it arrives.
        case acquiring(sentAt: Instant, releaseWhenGranted: Bool)
        /// The lease is held; the next heartbeat is due at `lease.heartbeatDueAt`.
        case held(Lease)
        /// The lease is held and a heartbeat is in flight since `sentAt`.
        case renewing(Lease, sentAt: Instant)
        /// A release of `token` is in flight.
        case releasing(token: FencingToken)
        /// The lease was given back.
        case released
        /// The lease of `token` was lost; the work under it must stop.
        case lost(token: FencingToken, reason: LossReason)
    }

    /// What the driver must do after an event.
    public enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Send an acquire request now.
        case sendAcquire
        /// Send a heartbeat for `token` now.
        case sendHeartbeat(token: FencingToken)
        /// Send a release for `token` now.
        case sendRelease(token: FencingToken)
        /// Call ``LeaseState/timerFired(now:)`` at (or soon after) this time.
        case wakeUp(at: Instant)
        /// The lease is lost: stop the work, roll back what is not committed, write nothing more.
        case stopWork(LossReason)
    }

    /// Where the client stands now.
    public private(set) var state: State = .idle
    /// The timing policy.
    public let configuration: Configuration

    /// A client with no lease yet.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Queries

    /// The token to send with a write starting at `now`, or nil when the lease is not held or
    /// will expire within the safety margin.
    public func token(forWriteAt now: Instant) -> FencingToken? {
        switch state {
        case .held(let lease), .renewing(let lease, _):
            return now.advanced(by: configuration.safetyMargin) < lease.expiresAt ? lease.token : nil
        default:
            return nil
        }
    }

    /// True while the lease is held (including while a heartbeat is in flight).
    public var isHeld: Bool {
        switch state {
        case .held, .renewing: true
        default: false
        }
    }

    // MARK: Events

    /// The client wants the lease. From idle, released or lost: send an acquire request.
    public mutating func acquireRequested(now: Instant) -> Action {
        switch state {
        case .idle, .released, .lost:
            state = .acquiring(sentAt: now, releaseWhenGranted: false)
            return .sendAcquire
        default:
            return .none
        }
    }

    /// The server granted the lease: `token`, valid for `validFor` from when it answered
    /// (``LeaseGrant/validFor``), after waiting `waited` for another holder
    /// (``LeaseGrant/waited``): the answer left no earlier than the request plus that wait.
    public mutating func acquireSucceeded(token: FencingToken, validFor: Duration, waited: Duration = .zero,
                                          now: Instant) -> Action {
        guard case .acquiring(let requestedAt, let releaseWhenGranted) = state else { return .none }
        let sentAt = requestedAt.advanced(by: max(waited, .zero))
        if releaseWhenGranted {
            state = .releasing(token: token)
            return .sendRelease(token: token)
        }
        let lease = makeLease(token: token, sentAt: sentAt, validFor: validFor)
        guard now < lease.expiresAt else {
            state = .lost(token: token, reason: .expired)
            return .stopWork(.expired)
        }
        state = .held(lease)
        return .wakeUp(at: lease.heartbeatDueAt)
    }

    /// The acquire request failed or was refused (the lease is held by someone else).
    public mutating func acquireFailed() -> Action {
        guard case .acquiring(_, let releaseWhenGranted) = state else { return .none }
        state = releaseWhenGranted ? .released : .idle
        return .none
    }

    /// A timer asked for by ``Action/wakeUp(at:)`` fired (or the driver checks in).
    public mutating func timerFired(now: Instant) -> Action {
        switch state {
        case .held(let lease):
            if now >= lease.expiresAt {
                state = .lost(token: lease.token, reason: .expired)
                return .stopWork(.expired)
            }
            if now >= lease.heartbeatDueAt {
                state = .renewing(lease, sentAt: now)
                return .sendHeartbeat(token: lease.token)
            }
            return .wakeUp(at: lease.heartbeatDueAt)
        case .renewing(let lease, _):
            if now >= lease.expiresAt {
                state = .lost(token: lease.token, reason: .expired)
                return .stopWork(.expired)
            }
            return .wakeUp(at: lease.expiresAt)
        default:
            return .none
        }
    }

    /// The server renewed the lease: valid for `validFor` from when it answered
    /// (``LeaseRenewal/validFor``).
    public mutating func heartbeatSucceeded(validFor: Duration, now: Instant) -> Action {
        guard case .renewing(let old, let sentAt) = state else { return .none }
        var lease = makeLease(token: old.token, sentAt: sentAt, validFor: validFor)
        if lease.expiresAt < old.expiresAt { lease.expiresAt = old.expiresAt }
        guard now < lease.expiresAt else {
            state = .lost(token: lease.token, reason: .expired)
            return .stopWork(.expired)
        }
        state = .held(lease)
        return .wakeUp(at: lease.heartbeatDueAt)
    }

    /// A heartbeat failed. With a `refusal` (the server said the token is stale, expired or
    /// released) the lease is lost. Without one (network trouble, server restarting) the
    /// heartbeat is retried after the retry delay, unless the lease has expired meanwhile.
    public mutating func heartbeatFailed(now: Instant, refusal: ServerFault? = nil) -> Action {
        guard case .renewing(var lease, _) = state else { return .none }
        if let refusal {
            state = .lost(token: lease.token, reason: .refused(refusal))
            return .stopWork(.refused(refusal))
        }
        if now >= lease.expiresAt {
            state = .lost(token: lease.token, reason: .expired)
            return .stopWork(.expired)
        }
        lease.heartbeatDueAt = min(now.advanced(by: configuration.retryDelay), lease.expiresAt)
        state = .held(lease)
        return .wakeUp(at: lease.heartbeatDueAt)
    }

    /// A write under `token` was refused by the fence (`code`: stale token, expired or
    /// released lease): the lease is lost. A refusal for an older token changes nothing.
    public mutating func writeRefused(token: FencingToken, code: ServerFault) -> Action {
        switch state {
        case .held(let lease) where lease.token == token, .renewing(let lease, _) where lease.token == token:
            state = .lost(token: token, reason: .refused(code))
            return .stopWork(.refused(code))
        default:
            return .none
        }
    }

    /// The client is done with the lease: send a release (after the grant, if an acquire is in
    /// flight).
    public mutating func releaseRequested() -> Action {
        switch state {
        case .held(let lease), .renewing(let lease, _):
            state = .releasing(token: lease.token)
            return .sendRelease(token: lease.token)
        case .acquiring(let sentAt, _):
            state = .acquiring(sentAt: sentAt, releaseWhenGranted: true)
            return .none
        default:
            return .none
        }
    }

    /// The release request finished. Whether it succeeded or failed, the lease is gone for this
    /// client (a lease whose release was lost expires by itself).
    public mutating func releaseFinished() -> Action {
        guard case .releasing = state else { return .none }
        state = .released
        return .none
    }

    private func makeLease(token: FencingToken, sentAt: Instant, validFor: Duration) -> Lease {
        let valid = max(validFor, .zero)
        let (seconds, attoseconds) = valid.components
        let beatAfter = Duration.seconds(
            (Double(seconds) + Double(attoseconds) / 1e18) * configuration.heartbeatFraction)
        return Lease(token: token, expiresAt: sentAt.advanced(by: valid),
                     heartbeatDueAt: sentAt.advanced(by: beatAfter))
    }
}
