import Foundation
import Logging
import RPCContract
import SystemSupport
import AppDriver

/// The I/O half of the client's write lease: it feeds ``LeaseState`` (the pure state machine in
/// RPCContract) with the answers of the server and the time, and carries out the actions it
/// returns (postgres-nio's shape: events in, actions out). While the lease is held one OS
/// thread of its own sleeps until the machine's next wake-up and sends the heartbeats, so a CU
/// that keeps every task thread busy cannot starve its own lease.
///
/// Whether a write may go out is the machine's answer (``LeaseState/token(forWriteAt:)``): a
/// lease whose local expiry has passed (or is within the safety margin) gives no token, even if
/// the heartbeat thread has not woken yet.
final class LeaseKeeper: Sendable {
    typealias Machine = LeaseState<ContinuousClock.Instant>

    private let machine: Locked<Machine>
    private let wake = WakeSignal()
    private let transport: RPCTransport
    private let holder: String
    private let logger: Logger

    init(transport: RPCTransport, holder: String, logger: Logger, configuration: Machine.Configuration = .init()) {
        self.transport = transport
        self.holder = holder
        self.logger = logger
        self.machine = Locked(Machine(configuration: configuration))
    }

    /// Stops the heartbeats without giving the lease back (the handler is going away): the
    /// server lets the lease expire.
    func abandon() { wake.signal() }

    /// Asks for the lease and, once granted, starts the heartbeat thread. Blocks the calling
    /// thread (call it off Swift's cooperative pool).
    func acquire(ttl: Duration?, wait: Duration) throws(WrapperError) -> LeaseGrant {
        let start = machine.withLock { $0.acquireRequested(now: .now) }
        guard start == .sendAcquire else {
            throw WrapperError(.noLease, "writeLock: this handler already holds or is asking for the lease")
        }
        let grant: LeaseGrant
        do {
            grant = try transport.callBlocking(RPC.WriteLock.self, .init(holder: holder, ttl: ttl, wait: wait))
        } catch {
            _ = machine.withLock { $0.acquireFailed() }
            throw error
        }
        switch machine.withLock({ $0.acquireSucceeded(token: grant.token, validFor: grant.validFor, waited: grant.waited, now: .now) }) {
        case .wakeUp(let at):
            startHeartbeats(firstWakeUp: at, validFor: grant.validFor)
            return grant
        case .sendRelease(let token):
            try? transport.callBlocking(RPC.WriteUnlock.self, (holder, token))
            _ = machine.withLock { $0.releaseFinished() }
            throw WrapperError(.noLease, "writeLock: the lease was released while it was being granted")
        default:
            throw WrapperError(.noLease, "writeLock: the lease (token \(grant.token)) expired before its grant arrived")
        }
    }

    /// The token for a write starting now, or an error saying why there is none.
    func token() throws(WrapperError) -> FencingToken {
        let (token, state) = machine.withLock { ($0.token(forWriteAt: .now), $0.state) }
        if let token { return token }
        switch state {
        case .lost(_, let reason):
            throw WrapperError(.noLease, "the write lease was lost: \(Self.describe(reason))")
        case .held, .renewing:
            throw WrapperError(.noLease, "the write lease is about to expire: no heartbeat was answered in time")
        default:
            throw WrapperError(.noLease, "no write lease: call writeLock() first")
        }
    }

    /// A write under `token` was refused by the server's fence: the lease is lost.
    func writeRefused(token: FencingToken, fault: ServerFault) {
        if case .stopWork(let reason) = machine.withLock({ $0.writeRefused(token: token, code: fault) }) {
            logger.error("write lease lost: \(Self.describe(reason))")
            wake.signal()
        }
    }

    /// Gives the lease back (when held) and stops the heartbeats.
    func release() async throws(WrapperError) {
        let action = machine.withLock { $0.releaseRequested() }
        wake.signal()
        guard case .sendRelease(let token) = action else { return }
        defer { _ = machine.withLock { $0.releaseFinished() } }
        _ = try await transport.call(RPC.WriteUnlock.self, (holder, token))
        logger.info("write lease released (token \(token))")
    }

    private func startHeartbeats(firstWakeUp: ContinuousClock.Instant, validFor: Duration) {
        let generation = wake.current
        let thread = Thread { [self] in
            var next = firstWakeUp
            while wake.wait(until: next, generation: generation) {
                guard let wakeUp = step(timeout: validFor) else { return }
                next = wakeUp
            }
        }
        thread.name = "wsa-lease"
        thread.start()
    }

    /// One turn of the heartbeat thread: the timer fired. Returns when to wake next, or nil
    /// when the thread should end (released or lost).
    private func step(timeout: Duration) -> ContinuousClock.Instant? {
        var action = machine.withLock { $0.timerFired(now: .now) }
        if case .sendHeartbeat(let token) = action {
            do throws(WrapperError) {
                let renewal = try transport.callBlocking(RPC.Heartbeat.self, .init(holder: holder, token: token),
                                                         timeout: timeout / 3)
                action = machine.withLock { $0.heartbeatSucceeded(validFor: renewal.validFor, now: .now) }
            } catch {
                let refusal = error.fault.flatMap { $0.isLeaseLost ? $0 : nil }
                if refusal == nil { logger.warning("heartbeat failed: \(error.message)") }
                action = machine.withLock { $0.heartbeatFailed(now: .now, refusal: refusal) }
            }
        }
        switch action {
        case .wakeUp(let at):
            return at
        case .stopWork(let reason):
            logger.error("write lease lost: \(Self.describe(reason))")
            return nil
        default:
            return nil
        }
    }

    static func describe(_ reason: Machine.LossReason) -> String {
        switch reason {
        case .expired: "no heartbeat was answered before it expired"
        case .refused(let fault): "the server refused it (\(fault))"
        }
    }
}

/// What the heartbeat thread sleeps on: a deadline, or a signal that its lease is over. Each
/// signal starts a new generation, so a thread of an earlier lease never outlives it.
private final class WakeSignal: @unchecked Sendable {  // state guarded by `condition`
    private let condition = NSCondition()
    private var generation = 0

    /// The generation a new heartbeat thread belongs to.
    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    func signal() {
        condition.lock()
        generation += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps until `deadline`; false when `generation` has ended instead.
    func wait(until deadline: ContinuousClock.Instant, generation mine: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while generation == mine {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return true }
            _ = condition.wait(until: Date().addingTimeInterval(left.secondsValue))
        }
        return false
    }
}
