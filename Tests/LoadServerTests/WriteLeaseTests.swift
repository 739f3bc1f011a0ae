import Foundation
import Postgres
import Testing
import TestSupport
import RPCContract
import XMLRPC
@testable import LoadServer

/// The write lease and its fence against a real PostgreSQL (`WSA_TEST_DATABASE`). No test
/// asserts on timing: short TTLs only make a lease expire, and every wait is bounded.
@Suite("Write lease (PostgreSQL)", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct WriteLeaseTests {
    @Test("only one of two holders gets the lease; the other learns who holds it and since when")
    func oneHolder() async throws {
        try await withLeaseDatabase { conninfo in
            // Two holders asking at the same moment: exactly one grant.
            let attempts = onThreads(2) { i in
                let lease = try openLease(conninfo)
                defer { lease.connection.close() }
                // An hour: on a loaded machine the rest of the test must still find the lease held.
                return try lease.tryAcquire(holder: i == 0 ? "alice" : "bob", ttl: .seconds(3600))
            }
            let outcomes = try attempts.map { try #require($0).get() }
            let grants = outcomes.compactMap(\.grant)
            let refusals = outcomes.compactMap(\.refusal)
            #expect(grants.count == 1)
            #expect(refusals.count == 1)
            let grant = try #require(grants.first)
            let refusal = try #require(refusals.first)
            #expect(refusal.name == grant.holder)
            #expect(refusal.token == grant.token)
            #expect(refusal.since == grant.grantedAt)
            #expect(refusal.expiresAt == grant.expiresAt)
            #expect(!refusal.writesInFlight)

            // A third holder is refused with an error that names the holder, since and until.
            let carol = try openLease(conninfo)
            let error = await #expect(throws: LoadServerError.self) {
                try await carol.acquire(holder: "carol", ttl: .seconds(60), wait: .milliseconds(200))
            }
            #expect(error?.code == .leaseHeld)
            #expect(error?.holder?.name == grant.holder)
            #expect(error?.message.contains("held by \"\(grant.holder)\" since \(isoTime(grant.grantedAt))") == true)
            #expect(error?.fault.code == 2001)

            // The holder itself asking again is refused too (names are unique per process).
            let again = try carol.tryAcquire(holder: grant.holder, ttl: .seconds(60))
            guard case .refused(let holder) = again else {
                Issue.record("a second acquire by the holder was granted")
                return
            }
            #expect(holder.token == grant.token)
        }
    }

    @Test("after the first holder stops beating the second gets the lease, and the first holder's writes are refused")
    func expiryHandsOver() async throws {
        try await withLeaseDatabase { conninfo in
            let alice = try openLease(conninfo), bob = try openLease(conninfo)
            let first = try await alice.acquire(holder: "alice", ttl: .seconds(60))
            let refused = try bob.tryAcquire(holder: "bob", ttl: .seconds(60))
            guard case .refused(let holder) = refused else {
                Issue.record("bob got a lease alice holds")
                return
            }
            #expect(holder.name == "alice")

            // Alice's last heartbeat asks for 300 ms, then she stops beating.
            _ = try alice.heartbeat(holder: "alice", token: first.token, ttl: .milliseconds(300))
            let second = try await bob.acquire(holder: "bob", ttl: .seconds(60), wait: .seconds(20))
            #expect(second.token > first.token)
            #expect(second.holder == "bob")

            // Alice's write under her old token: refused by the fence, the body never runs.
            let bodyRan = Shared(false)
            let stale = #expect(throws: LoadServerError.self) {
                try alice.withFencedWrite(token: first.token) { db in
                    bodyRan.withValue { $0 = true }
                    try insertLedgerRow(db, token: first.token, name: "alice-late")
                }
            }
            #expect(stale?.code == .staleToken)
            #expect(stale?.sqlState == "WS001")
            #expect(stale?.message.contains("held by \"bob\"") == true)
            #expect(stale?.fault.code == 2002)
            #expect(!bodyRan.current)

            // A write that comes first and checks the fence afterwards is rolled back with it.
            let raw = #expect(throws: PostgresError.self) {
                try alice.connection.transaction { db in
                    try insertLedgerRow(db, token: first.token, name: "alice-unfenced")
                    _ = try db.query("SELECT wsa_lease_fence(\(first.token))")
                }
            }
            #expect(raw?.sqlState == "WS001")
            #expect(try ledgerRows(conninfo, token: first.token) == 0)

            // Her heartbeat and release with the stale token fail; bob's lease is untouched.
            let beat = #expect(throws: LoadServerError.self) {
                try alice.heartbeat(holder: "alice", token: first.token)
            }
            #expect(beat?.code == .staleToken)
            let release = #expect(throws: LoadServerError.self) {
                try alice.release(holder: "alice", token: first.token)
            }
            #expect(release?.code == .staleToken)
            // The right token with the wrong holder name is refused too.
            let impostor = #expect(throws: LoadServerError.self) {
                try alice.heartbeat(holder: "alice", token: second.token)
            }
            #expect(impostor?.code == .staleToken)

            // Bob writes with his token.
            try bob.withFencedWrite(token: second.token) { db in
                try insertLedgerRow(db, token: second.token, name: "bob-1")
            }
            #expect(try ledgerRows(conninfo, token: second.token) == 1)
            let status = try bob.status()
            #expect(status.state == .held)
            #expect(status.holder == "bob")
            #expect(status.token == second.token)
            #expect(status.ttl == .seconds(60))
        }
    }

    @Test("an expired lease refuses writes and heartbeats even before anyone else takes it; release ends it")
    func expiredAndReleased() async throws {
        try await withLeaseDatabase { conninfo in
            let alice = try openLease(conninfo)
            let grant = try await alice.acquire(holder: "alice", ttl: .seconds(60))
            let renewal = try alice.heartbeat(holder: "alice", token: grant.token, ttl: .milliseconds(200))
            #expect(renewal.expiresAt > grant.grantedAt)
            let status = try await waitForStatus(alice) { $0.state == .expired }
            #expect(status.state == .expired)

            let write = #expect(throws: LoadServerError.self) {
                try alice.withFencedWrite(token: grant.token) { db in
                    try insertLedgerRow(db, token: grant.token, name: "late")
                }
            }
            #expect(write?.code == .leaseExpired)
            #expect(write?.sqlState == "WS002")
            #expect(write?.fault.code == 2003)
            let beat = #expect(throws: LoadServerError.self) {
                try alice.heartbeat(holder: "alice", token: grant.token)
            }
            #expect(beat?.code == .leaseExpired)

            // Releasing an expired lease whose token is still current frees it at once.
            #expect(try alice.release(holder: "alice", token: grant.token))
            #expect(try alice.release(holder: "alice", token: grant.token) == false)
            #expect(try alice.status().state == .free)
            let released = #expect(throws: LoadServerError.self) {
                try alice.withFencedWrite(token: grant.token) { _ in }
            }
            #expect(released?.code == .leaseReleased)
            #expect(released?.sqlState == "WS003")
            #expect(try ledgerRows(conninfo, token: grant.token) == 0)
        }
    }

    @Test("tokens keep growing across releases, reconnections and re-acquires; the row refuses a decrease")
    func tokensGrow() async throws {
        try await withLeaseDatabase { conninfo in
            var tokens: [FencingToken] = []
            for round in 0..<6 {
                // A new connection each round, as after a restart of the server.
                let lease = try openLease(conninfo)
                defer { lease.connection.close() }
                let grant = try await lease.acquire(holder: "holder-\(round % 2)", ttl: .seconds(60))
                tokens.append(grant.token)
                try lease.withFencedWrite(token: grant.token) { db in
                    try insertLedgerRow(db, token: grant.token, name: "round-\(round)")
                }
                if round % 3 == 2 {
                    // Let it expire instead of releasing it.
                    _ = try lease.heartbeat(holder: grant.holder, token: grant.token, ttl: .milliseconds(50))
                    _ = try await waitForStatus(lease) { $0.state == .expired }
                } else {
                    #expect(try lease.release(holder: grant.holder, token: grant.token))
                }
            }
            #expect(tokens == tokens.sorted())
            #expect(Set(tokens).count == tokens.count)
            #expect(tokens.first! >= 1)

            let db = try connect(conninfo)
            defer { db.close() }
            #expect(try db.queryValue(Int64.self, "SELECT fencingToken FROM CurationLock") == tokens.last!)
            let down = #expect(throws: PostgresError.self) {
                try db.execute("UPDATE CurationLock SET fencingToken = 1")
            }
            #expect(down?.message.contains("cannot go down") == true)
            #expect(try db.queryValue(Int64.self, "SELECT fencingToken FROM CurationLock") == tokens.last!)
        }
    }

    @Test("concurrent writers with the current token all commit, without waiting for each other or blocking heartbeats")
    func concurrentWriters() async throws {
        try await withLeaseDatabase { conninfo in
            let control = try openLease(conninfo)
            let grant = try await control.acquire(holder: "alice", ttl: .seconds(60))
            let writers = 4
            let gate = Gate()
            defer { gate.open() }  // never leave a writer waiting when an expectation throws
            let token = grant.token
            let results = Shared<[Result<Void, any Error>?]>([])
            let group = DispatchGroup()
            group.enter()
            Thread {
                let outcome = onThreads(writers) { i in
                    let writer = try openLease(conninfo)
                    defer { writer.connection.close() }
                    try writer.withFencedWrite(token: token) { db in
                        try insertLedgerRow(db, token: token, name: "writer-\(i)")
                        // Every writer holds its fenced transaction open here until all have
                        // arrived: if fence checks serialised, the others could never arrive.
                        guard gate.arriveAndWait() else { throw CancellationError() }
                    }
                }
                results.withValue { $0 = outcome }
                group.leave()
            }.start()

            let allInside = gate.waitForArrivals(writers)
            #expect(allInside, "fenced writers with one token blocked each other")
            // While they all hold their fence, a heartbeat goes through at once (no lock wait)
            // and a competitor is refused without waiting.
            try control.connection.setLockTimeout(.seconds(5))
            let renewal = try control.heartbeat(holder: "alice", token: grant.token)
            #expect(renewal.expiresAt >= grant.expiresAt)
            let competitor = try openLease(conninfo)
            if case .granted = try competitor.tryAcquire(holder: "bob", ttl: .seconds(60)) {
                Issue.record("bob got the lease while alice holds it")
            }
            gate.open()
            _ = group.wait(timeout: .now() + 60)
            let outcome = results.current
            #expect(outcome.count == writers)
            for case .failure(let error)? in outcome {
                Issue.record("a writer failed: \(error)")
            }
            #expect(outcome.allSatisfy { $0 != nil })
            #expect(try ledgerRows(conninfo, token: grant.token) == writers)
        }
    }

    @Test("a grant over an expired lease waits for the old holder's write in flight, which rolls back")
    func grantWaitsForWriteInFlight() async throws {
        try await withLeaseDatabase { conninfo in
            let alice = try openLease(conninfo), bob = try openLease(conninfo)
            let first = try await alice.acquire(holder: "alice", ttl: .seconds(60))
            let gate = Gate()
            defer { gate.open() }
            let token = first.token
            let group = DispatchGroup()
            let writeResult = Shared<Result<Void, any Error>?>(nil)
            group.enter()
            Thread {
                let result = Result {
                    let writer = try openLease(conninfo)
                    defer { writer.connection.close() }
                    try writer.withFencedWrite(token: token) { db in
                        try insertLedgerRow(db, token: token, name: "in-flight")
                        guard gate.arriveAndWait() else { throw CancellationError() }
                    }
                }
                writeResult.withValue { $0 = result }
                group.leave()
            }.start()
            #expect(gate.waitForArrivals(1))

            // Alice's lease runs out while her write is still open.
            _ = try alice.heartbeat(holder: "alice", token: first.token, ttl: .milliseconds(100))
            _ = try await waitForStatus(alice) { $0.state == .expired }
            let busy = try bob.tryAcquire(holder: "bob", ttl: .seconds(60), lockWait: .milliseconds(200))
            guard case .refused(let holder) = busy else {
                gate.open()
                group.wait()
                Issue.record("bob was granted the lease while alice's fenced write was in flight")
                return
            }
            #expect(holder.writesInFlight)
            #expect(holder.name == "alice")
            let error = WriteLease.heldError(holder, waited: .zero)
            #expect(error.message.contains("still in flight"))

            gate.open()
            #expect(group.wait(timeout: .now() + 60) == .success)
            // Her lease ran out while her write ran: the fence refuses it at commit.
            switch writeResult.current {
            case .failure(let error as LoadServerError)?:
                #expect(error.code == .leaseExpired)
            default:
                Issue.record("the write that outlived its lease ended with \(String(describing: writeResult.current))")
            }
            let second = try await bob.acquire(holder: "bob", ttl: .seconds(60), wait: .seconds(20))
            #expect(second.token > first.token)
            #expect(try ledgerRows(conninfo, token: first.token) == 0)
        }
    }

    @Test("a fence check racing a new grant never lets a stale write commit (bounded loop)")
    func raceAgainstGrant() async throws {
        try await withLeaseDatabase { conninfo in
            let control = try openLease(conninfo)
            let successor = try openLease(conninfo)
            var committedByOldHolders = 0
            var refusals: [LoadServerError.Code: Int] = [:]
            for round in 0..<40 {
                let old = try await control.acquire(holder: "old-\(round)", ttl: .seconds(60), wait: .seconds(20))
                let token = old.token
                let writerCount = 2
                // Writers under the old token: fence, pause a little inside the transaction (so
                // writes straddle the hand-over), insert, commit; until the fence refuses them
                // (at most 5000 writes each).
                let writers = DispatchGroup()
                let outcomes = Shared<[Result<Int, any Error>]>([])
                let started = Gate()
                for w in 0..<writerCount {
                    writers.enter()
                    Thread {
                        let result = Result<Int, any Error> {
                            let writer = try openLease(conninfo)
                            defer { writer.connection.close() }
                            var committed = 0
                            for n in 0..<5_000 {
                                let pause = Double((n * 7 + w * 3) % 5) / 1000
                                let write = { (db: PostgresConnection) throws -> Void in
                                    _ = try db.query("SELECT pg_sleep(\(pause))")
                                    try insertLedgerRow(db, token: token, name: "r\(round)-w\(w)-\(n)")
                                }
                                if w % 2 == 0 {
                                    try writer.withFencedWrite(token: token, write)
                                } else {
                                    // The SQL fence alone, checked once at the start of a
                                    // transaction the writer runs itself.
                                    try LoadServerError.mapping("fenced write") {
                                        try writer.connection.transaction { db in
                                            try WriteLease.checkFence(token: token, on: db)
                                            try write(db)
                                        }
                                    }
                                }
                                committed += 1
                                if committed == 1 { started.arrive() }
                            }
                            return committed
                        }
                        outcomes.withValue { $0.append(result) }
                        writers.leave()
                    }.start()
                }
                #expect(started.waitForArrivals(1))

                // Hand the lease over: half the rounds by release, half by expiry; the successor
                // asks in a tight loop so that its grant lands as early as possible.
                if round % 2 == 0 {
                    #expect(try control.release(holder: old.holder, token: token))
                } else {
                    _ = try control.heartbeat(holder: old.holder, token: token, ttl: .milliseconds(30))
                }
                var next: LeaseGrant?
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(20))
                while next == nil && clock.now < deadline {
                    if case .granted(let grant) = try successor.tryAcquire(
                        holder: "new-\(round)", ttl: .seconds(60), lockWait: .seconds(5)) {
                        next = grant
                    }
                }
                let grant = try #require(next)
                #expect(grant.token > token)
                // Everything the old holder will ever commit must already be visible now.
                let visibleAtGrant = try ledgerRows(conninfo, token: token)

                #expect(writers.wait(timeout: .now() + 60) == .success)
                let results = outcomes.current
                #expect(results.count == writerCount)
                for result in results {
                    switch result {
                    case .success:
                        break  // 5000 writes without a refusal: the hand-over came late
                    case .failure(let error as LoadServerError):
                        #expect(error.isLeaseLost, "unexpected error: \(error.debugDescription)")
                        refusals[error.code, default: 0] += 1
                    case .failure(let error):
                        Issue.record("writer failed: \(error)")
                    }
                }
                let visibleAfter = try ledgerRows(conninfo, token: token)
                #expect(visibleAfter == visibleAtGrant,
                        "round \(round): \(visibleAfter - visibleAtGrant) stale writes committed after the grant")
                committedByOldHolders += visibleAfter
                try successor.release(holder: grant.holder, token: grant.token)
            }
            // The loop really raced: old holders wrote, and were then refused.
            #expect(committedByOldHolders > 0)
            #expect(refusals.values.reduce(0, +) > 0)
        }
    }

    @Test("bad holder names and TTLs are refused in Swift and in SQL")
    func badArguments() async throws {
        try await withLeaseDatabase { conninfo in
            let lease = try openLease(conninfo)
            for (holder, ttl) in [("", Duration.seconds(1)), ("  ", .seconds(1)),
                                  (String(repeating: "x", count: 257), .seconds(1)),
                                  ("alice", .zero), ("alice", .seconds(-1)), ("alice", .seconds(86_401))] {
                let error = #expect(throws: LoadServerError.self) {
                    try lease.tryAcquire(holder: holder, ttl: ttl)
                }
                #expect(error?.code == .invalidArgument)
            }
            let sql = #expect(throws: PostgresError.self) {
                try lease.connection.query("SELECT * FROM wsa_lease_acquire('alice', interval '-1 second')")
            }
            #expect(sql?.sqlState == "22023")
            #expect(LoadServerError.from(try #require(sql), operation: "acquire").code == .invalidArgument)
            #expect(try lease.status().state == .free)
            #expect(try lease.status().token == 0)
        }
    }
}

@Suite("Write fence locking (PostgreSQL)", .enabled(if: TestEnvironment.hasDatabase))
struct WriteFenceLockingTests {
    @Test("inside a fenced write, any change of the token waits for it, while heartbeats and fence checks do not")
    func tokenChangesWaitForFencedWrites() async throws {
        try await withLeaseDatabase { conninfo in
            let writer = try openLease(conninfo), other = try openLease(conninfo)
            let grant = try await other.acquire(holder: "alice", ttl: .seconds(60))
            try other.connection.setLockTimeout(.milliseconds(300))
            var rolledBack: LoadServerError?
            do {
                try writer.withFencedWrite(token: grant.token) { db in
                    try insertLedgerRow(db, token: grant.token, name: "held-open")
                    // The same holder's heartbeat and another fence check go through at once.
                    _ = try other.heartbeat(holder: "alice", token: grant.token)
                    try other.withFencedWrite(token: grant.token) { db in
                        try insertLedgerRow(db, token: grant.token, name: "second-writer")
                    }
                    // A token change written by hand (not through wsa_lease_acquire) must wait too:
                    // the unique index makes fencingToken a key column.
                    let manual = #expect(throws: PostgresError.self) {
                        try other.connection.execute("UPDATE CurationLock SET fencingToken = fencingToken + 1")
                    }
                    #expect(manual?.sqlState == SQLState.lockNotAvailable)
                    // A release does not wait for the writes in flight; a grant then would.
                    #expect(try other.release(holder: "alice", token: grant.token))
                    let attempt = try other.tryAcquire(holder: "bob", ttl: .seconds(60), lockWait: .milliseconds(200))
                    #expect(attempt.refusal?.writesInFlight == true)
                }
                Issue.record("a write whose lease was released while it ran committed")
            } catch let error as LoadServerError {
                rolledBack = error
            }
            // Released while it ran, the write is refused at commit and rolled back; the second
            // writer, which committed before the release, stays.
            #expect(rolledBack?.code == .leaseReleased)
            #expect(try ledgerRows(conninfo, token: grant.token) == 1)
            let next = try await other.acquire(holder: "bob", ttl: .seconds(60), wait: .seconds(10))
            #expect(next.token == grant.token + 1)
        }
    }
}

extension WriteFenceLockingTests {
    @Test("a write whose lease expires while it runs is rolled back at commit")
    func expiryDuringWrite() async throws {
        try await withLeaseDatabase { conninfo in
            let writer = try openLease(conninfo), control = try openLease(conninfo)
            let grant = try await control.acquire(holder: "alice", ttl: .seconds(60))
            let error = #expect(throws: LoadServerError.self) {
                try writer.withFencedWrite(token: grant.token) { db in
                    try insertLedgerRow(db, token: grant.token, name: "outlived-its-lease")
                    // The holder stops beating while the write runs: its lease runs out.
                    _ = try control.heartbeat(holder: "alice", token: grant.token, ttl: .milliseconds(50))
                    let clock = ContinuousClock()
                    let deadline = clock.now.advanced(by: .seconds(20))
                    while try control.status().state != .expired && clock.now < deadline {
                        Thread.sleep(forTimeInterval: 0.02)
                    }
                }
            }
            #expect(error?.code == .leaseExpired)
            #expect(try ledgerRows(conninfo, token: grant.token) == 0)
            #expect(writer.connection.transactionStatus == .idle)

            // The fence on its own, in a transaction the caller runs.
            let next = try await control.acquire(holder: "bob", ttl: .seconds(60))
            try writer.connection.transaction { (db: PostgresConnection) throws -> Void in
                let holder = try WriteLease.checkFence(token: next.token, on: db)
                #expect(holder == "bob")
            }
            let stale = #expect(throws: LoadServerError.self) {
                try writer.connection.transaction { db in
                    try WriteLease.checkFence(token: grant.token, on: db)
                }
            }
            #expect(stale?.code == .staleToken)
        }
    }
}
