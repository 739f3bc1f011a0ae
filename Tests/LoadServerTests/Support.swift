import Foundation
import Postgres
import TestSupport
import RPCContract
@testable import LoadServer

/// Runs `body` with the connection string of a fresh database with every migration of `sql/`
/// applied; the database is dropped afterwards.
func withLeaseDatabase<T>(_ prefix: String = "lease",
                          _ body: (String) async throws -> T) async throws -> T {
    try await TestDatabase.withFresh(prefix: prefix) { conninfo in
        let db = try PostgresConnection(conninfo)
        defer { db.close() }
        let sql = TestEnvironment.packageRoot.appendingPathComponent("sql")
        try SchemaMigrator(directory: sql).migrate(on: db)
        return try await body(conninfo)
    }
}

/// A connection whose statements give up after 30 s, so that a lock bug fails a test instead of
/// hanging it.
func connect(_ conninfo: String) throws -> PostgresConnection {
    let connection = try PostgresConnection(conninfo, applicationName: "lease-test")
    try connection.setStatementTimeout(.seconds(30))
    return connection
}

/// A `WriteLease` on a connection of its own.
func openLease(_ conninfo: String) throws -> WriteLease {
    WriteLease(connection: try connect(conninfo))
}

/// Rows of LoadLedger written under `token` (the tests put the token in cuEventID).
func ledgerRows(_ conninfo: String, token: FencingToken) throws -> Int {
    let db = try connect(conninfo)
    defer { db.close() }
    return try db.queryValue(Int.self, "SELECT count(*) FROM LoadLedger WHERE cuEventID = \(Int32(token))")
}

/// Inserts one LoadLedger row tagged with `token`.
func insertLedgerRow(_ db: PostgresConnection, token: FencingToken, name: String) throws {
    try db.execute("""
        INSERT INTO LoadLedger (checksum, tableName, rowsLoaded, fileName, cuEventID)
        VALUES (\(name), 'lasDetection', 1, \(name), \(Int32(token)))
        """)
}

/// A value shared between threads.
final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withValue { $0 } }
}

/// Threads arrive at a gate and wait there until the test opens it (bounded waits only).
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var arrivals = 0
    private var isOpen = false

    /// Counts one arrival without waiting.
    func arrive() {
        condition.lock()
        arrivals += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Counts one arrival, then waits until the gate opens; false when `timeout` passed first.
    @discardableResult
    func arriveAndWait(timeout: TimeInterval = 30) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrivals += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while !isOpen {
            if !condition.wait(until: deadline) { return isOpen }
        }
        return true
    }

    /// Waits until `count` threads have arrived; false when `timeout` passed first.
    func waitForArrivals(_ count: Int, timeout: TimeInterval = 30) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while arrivals < count {
            if !condition.wait(until: deadline) { return arrivals >= count }
        }
        return true
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body(i)` for i in 0..<count, each on a thread of its own (libpq calls block), and
/// returns the results in order once all finished, or nil for those still running after
/// `timeout`.
func onThreads<R: Sendable>(_ count: Int, timeout: TimeInterval = 60,
                            _ body: @escaping @Sendable (Int) throws -> R) -> [Result<R, any Error>?] {
    let results = Shared<[Result<R, any Error>?]>(Array(repeating: nil, count: count))
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        let thread = Thread {
            let result = Result { try body(i) }
            results.withValue { $0[i] = result }
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    _ = group.wait(timeout: .now() + timeout)
    return results.current
}

/// Polls the lease status until `predicate` holds (at most `timeout`).
func waitForStatus(_ lease: WriteLease, timeout: Duration = .seconds(20),
                   _ predicate: (LeaseStatus) -> Bool) async throws -> LeaseStatus {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        let status = try lease.status()
        if predicate(status) || clock.now >= deadline { return status }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension WriteLease.Attempt {
    var grant: LeaseGrant? {
        if case .granted(let grant) = self { return grant }
        return nil
    }
    var refusal: LeaseHolder? {
        if case .refused(let holder) = self { return holder }
        return nil
    }
}
