import RPCContract
import Testing

/// A clock reading the tests set by hand: a duration since an arbitrary origin.
struct FakeInstant: InstantProtocol {
    var offset: Duration

    static func at(_ seconds: Double) -> FakeInstant { FakeInstant(offset: .seconds(seconds)) }
    func advanced(by duration: Duration) -> FakeInstant { FakeInstant(offset: offset + duration) }
    func duration(to other: FakeInstant) -> Duration { other.offset - offset }
    static func < (lhs: FakeInstant, rhs: FakeInstant) -> Bool { lhs.offset < rhs.offset }
}

typealias ClientLease = LeaseState<FakeInstant>

/// The client's lease state machine, driven by hand with an injected clock (no database).
@Suite("Lease state machine")
struct LeaseStateTests {
    /// A state that holds token 7, granted by a request sent at t = 0 for 30 s.
    func holding() -> ClientLease {
        var lease = ClientLease()
        _ = lease.acquireRequested(now: .at(0))
        _ = lease.acquireSucceeded(token: 7, validFor: .seconds(30), now: .at(0.2))
        return lease
    }

    @Test("a grant after a wait counts from the request plus the wait the server reports")
    func waitedGrant() {
        var lease = ClientLease()
        #expect(lease.acquireRequested(now: .at(0)) == .sendAcquire)
        // The server waited 70 s for the old holder's lease to expire, then granted 60 s.
        #expect(lease.acquireSucceeded(token: 8, validFor: .seconds(60), waited: .seconds(70), now: .at(70.3))
            == .wakeUp(at: .at(90)))
        #expect(lease.token(forWriteAt: .at(100)) == 8)
        #expect(lease.token(forWriteAt: .at(130)) == nil)
        // Without the wait, the same answer would be an expired lease.
        var naive = ClientLease()
        _ = naive.acquireRequested(now: .at(0))
        #expect(naive.acquireSucceeded(token: 8, validFor: .seconds(60), now: .at(70.3)) == .stopWork(.expired))
    }

    @Test("acquire, heartbeat, release: each event returns the next action")
    func happyPath() {
        var lease = ClientLease()
        #expect(lease.state == .idle)
        #expect(lease.token(forWriteAt: .at(0)) == nil)
        #expect(lease.acquireRequested(now: .at(0)) == .sendAcquire)
        #expect(lease.state == .acquiring(sentAt: .at(0), releaseWhenGranted: false))
        // A second request while one is in flight sends nothing.
        #expect(lease.acquireRequested(now: .at(0.1)) == .none)

        // Granted for 30 s: the expiry counts from when the request was sent, and the first
        // heartbeat is due after a third of it.
        #expect(lease.acquireSucceeded(token: 7, validFor: .seconds(30), now: .at(0.2)) == .wakeUp(at: .at(10)))
        #expect(lease.isHeld)
        #expect(lease.state == .held(.init(token: 7, expiresAt: .at(30), heartbeatDueAt: .at(10))))
        #expect(lease.token(forWriteAt: .at(5)) == 7)

        // Woken early: sleep on. Due: send a heartbeat; the token stays usable meanwhile.
        #expect(lease.timerFired(now: .at(9)) == .wakeUp(at: .at(10)))
        #expect(lease.timerFired(now: .at(10)) == .sendHeartbeat(token: 7))
        #expect(lease.token(forWriteAt: .at(10.5)) == 7)
        #expect(lease.timerFired(now: .at(11)) == .wakeUp(at: .at(30)))

        // Renewed for 30 s from the heartbeat's send time (t = 10).
        #expect(lease.heartbeatSucceeded(validFor: .seconds(30), now: .at(11)) == .wakeUp(at: .at(20)))
        #expect(lease.state == .held(.init(token: 7, expiresAt: .at(40), heartbeatDueAt: .at(20))))

        #expect(lease.releaseRequested() == .sendRelease(token: 7))
        #expect(lease.state == .releasing(token: 7))
        #expect(lease.token(forWriteAt: .at(12)) == nil)
        #expect(lease.releaseRequested() == .none)
        #expect(lease.releaseFinished() == .none)
        #expect(lease.state == .released)
        #expect(!lease.isHeld)

        // A released client may ask again.
        #expect(lease.acquireRequested(now: .at(50)) == .sendAcquire)
    }

    @Test("no successful heartbeat before the expiry: stop work, lease lost")
    func expires() {
        var lease = holding()
        #expect(lease.timerFired(now: .at(10)) == .sendHeartbeat(token: 7))
        // The heartbeat hangs; the timer comes back at the expiry.
        #expect(lease.timerFired(now: .at(30)) == .stopWork(.expired))
        #expect(lease.state == .lost(token: 7, reason: .expired))
        #expect(lease.token(forWriteAt: .at(30)) == nil)
        // Its late answer changes nothing.
        #expect(lease.heartbeatSucceeded(validFor: .seconds(30), now: .at(31)) == .none)
        #expect(lease.state == .lost(token: 7, reason: .expired))

        // A held lease whose timer fires only after the expiry (a paused process) is lost too.
        var paused = holding()
        #expect(paused.timerFired(now: .at(45)) == .stopWork(.expired))

        // A heartbeat answer that arrives after the lease it renews would have run out.
        var late = holding()
        _ = late.timerFired(now: .at(10))
        #expect(late.heartbeatSucceeded(validFor: .seconds(5), now: .at(31)) == .stopWork(.expired))
    }

    @Test("a heartbeat that fails for a transient reason is retried, never past the expiry")
    func transientHeartbeatFailure() {
        var lease = holding()
        _ = lease.timerFired(now: .at(10))
        #expect(lease.heartbeatFailed(now: .at(12)) == .wakeUp(at: .at(13)))
        #expect(lease.timerFired(now: .at(13)) == .sendHeartbeat(token: 7))
        // Close to the expiry the retry is clamped to it.
        #expect(lease.heartbeatFailed(now: .at(29.5)) == .wakeUp(at: .at(30)))
        #expect(lease.timerFired(now: .at(30)) == .stopWork(.expired))

        var tooLate = holding()
        _ = tooLate.timerFired(now: .at(10))
        #expect(tooLate.heartbeatFailed(now: .at(30.5)) == .stopWork(.expired))
    }

    @Test("a heartbeat or write refused by the server loses the lease at once")
    func refused() {
        var lease = holding()
        _ = lease.timerFired(now: .at(10))
        #expect(lease.heartbeatFailed(now: .at(10.1), refusal: .staleToken) == .stopWork(.refused(.staleToken)))
        #expect(lease.state == .lost(token: 7, reason: .refused(.staleToken)))
        #expect(lease.acquireRequested(now: .at(11)) == .sendAcquire)

        var writer = holding()
        // A refusal for an older token (a write still in flight from an earlier lease) is ignored.
        #expect(writer.writeRefused(token: 6, code: .staleToken) == .none)
        #expect(writer.isHeld)
        #expect(writer.writeRefused(token: 7, code: .leaseExpired) == .stopWork(.refused(.leaseExpired)))
        #expect(writer.state == .lost(token: 7, reason: .refused(.leaseExpired)))
    }

    @Test("the token is not handed out within the safety margin of the expiry")
    func safetyMargin() {
        let lease = holding()
        #expect(lease.token(forWriteAt: .at(29.7)) == 7)
        #expect(lease.token(forWriteAt: .at(29.75)) == nil)
        #expect(lease.token(forWriteAt: .at(29.9)) == nil)
    }

    @Test("a release asked for while the acquire is in flight gives the lease back once granted")
    func releaseWhileAcquiring() {
        var lease = ClientLease()
        _ = lease.acquireRequested(now: .at(0))
        #expect(lease.releaseRequested() == .none)
        #expect(lease.acquireSucceeded(token: 9, validFor: .seconds(30), now: .at(0.1)) == .sendRelease(token: 9))
        #expect(lease.state == .releasing(token: 9))
        #expect(lease.releaseFinished() == .none)
        #expect(lease.state == .released)

        var refused = ClientLease()
        _ = refused.acquireRequested(now: .at(0))
        _ = refused.releaseRequested()
        #expect(refused.acquireFailed() == .none)
        #expect(refused.state == .released)

        var plain = ClientLease()
        _ = plain.acquireRequested(now: .at(0))
        #expect(plain.acquireFailed() == .none)
        #expect(plain.state == .idle)
    }

    @Test("a grant that arrives after its validity ran out is treated as lost")
    func lateGrant() {
        var lease = ClientLease()
        _ = lease.acquireRequested(now: .at(0))
        #expect(lease.acquireSucceeded(token: 3, validFor: .seconds(2), now: .at(2.5)) == .stopWork(.expired))
        #expect(lease.state == .lost(token: 3, reason: .expired))
    }

    @Test("events that make no sense in the current state change nothing")
    func ignoredEvents() {
        var lease = ClientLease()
        #expect(lease.acquireSucceeded(token: 1, validFor: .seconds(1), now: .at(0)) == .none)
        #expect(lease.heartbeatSucceeded(validFor: .seconds(1), now: .at(0)) == .none)
        #expect(lease.heartbeatFailed(now: .at(0)) == .none)
        #expect(lease.timerFired(now: .at(0)) == .none)
        #expect(lease.releaseRequested() == .none)
        #expect(lease.releaseFinished() == .none)
        #expect(lease.acquireFailed() == .none)
        #expect(lease.state == .idle)

        var held = holding()
        #expect(held.acquireRequested(now: .at(1)) == .none)
        #expect(held.heartbeatSucceeded(validFor: .seconds(99), now: .at(1)) == .none)
        #expect(held.state == .held(.init(token: 7, expiresAt: .at(30), heartbeatDueAt: .at(10))))
    }

    @Test("a configured heartbeat fraction and retry delay are used")
    func configuration() {
        var lease = LeaseState<FakeInstant>(
            configuration: .init(heartbeatFraction: 0.5, retryDelay: .milliseconds(250), safetyMargin: .zero))
        _ = lease.acquireRequested(now: .at(0))
        #expect(lease.acquireSucceeded(token: 1, validFor: .seconds(4), now: .at(0)) == .wakeUp(at: .at(2)))
        #expect(lease.timerFired(now: .at(2)) == .sendHeartbeat(token: 1))
        #expect(lease.heartbeatFailed(now: .at(2.25)) == .wakeUp(at: .at(2.5)))
        #expect(lease.token(forWriteAt: .at(3.999)) == 1)
    }
}

