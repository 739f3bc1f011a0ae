public import Foundation
public import Logging
import Postgres
import Curation
import SystemSupport
public import RPCContract

/// The work behind dbrpcserver's methods: the write lease, curation steps (runs) whose writes
/// commit together with their success record, and exactly-once loads of transaction files.
///
/// Every database call runs on the service's own threads (``ThreadPool``), never on Swift's
/// cooperative pool. A monitor rolls back the open steps of a lease that expired or was
/// superseded, so that the next holder is not kept waiting by a dead holder's transaction.
public final class CurationService: Sendable {
    /// How the service is set up.
    public struct Configuration: Sendable {
        /// libpq connection string of the writer role.
        public var conninfo: String
        /// The spool directory; transaction files live in `<spool>/transactions`.
        public var spool: URL
        /// Lease TTL when a caller does not give one.
        public var defaultLeaseTTL: Duration = .seconds(60)
        /// At most this many steps open at once.
        public var maximumOpenSteps = 32
        /// Pooled connections for short operations.
        public var poolSize = 8
        /// Threads for blocking work.
        public var threads = 16
        /// How often the monitor looks at the lease of open steps.
        public var monitorInterval: Duration = .milliseconds(250)
        /// Name shown in `pg_stat_activity`.
        public var applicationName = "dbrpcserver"

        public init(conninfo: String, spool: URL) {
            self.conninfo = conninfo
            self.spool = spool
        }
    }

    public let configuration: Configuration
    let logger: Logger
    let threads: ThreadPool
    let connections: ConnectionPool
    let steps = Locked<[Int: OpenStep]>([:])
    let accepting = Locked(true)
    let observer: @Sendable (LoadObservation) -> Void
    private let monitorStop = Locked(false)
    private let instanceLock = Locked<PostgresConnection?>(nil)

    /// The directory of transaction files.
    public var transactionDirectory: URL {
        configuration.spool.appendingPathComponent("transactions", isDirectory: true)
    }

    public init(configuration: Configuration, logger: Logger,
                observer: @escaping @Sendable (LoadObservation) -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
        self.threads = ThreadPool(name: "dbrpc-db", size: configuration.threads)
        self.connections = ConnectionPool(conninfo: configuration.conninfo,
                                          applicationName: configuration.applicationName,
                                          maximum: configuration.poolSize)
    }

    // MARK: Lifecycle

    /// Checks the prerequisites (database reachable, q3c, schema migrated, spool writable),
    /// becomes the only server of this database, marks runs left open by an earlier server as
    /// failed, and starts the monitor. Throws ``LoadServerError`` saying in one line what is
    /// missing.
    public func start() async throws {
        try await threads.run { try self.startBlocking() }
    }

    private func startBlocking() throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: transactionDirectory, withIntermediateDirectories: true)
            let probe = transactionDirectory.appendingPathComponent(".probe-\(getpid())")
            guard fm.createFile(atPath: probe.path, contents: Data("ok".utf8)) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            try fm.removeItem(at: probe)
        } catch {
            throw LoadServerError(.invalidArgument,
                                  "the spool \(transactionDirectory.path) is not writable: \(error.localizedDescription)")
        }
        let connection: PostgresConnection
        do {
            connection = try connections.makeConnection(purpose: "instance")
        } catch let error as PostgresError {
            throw LoadServerError(.databaseUnavailable,
                                  "cannot reach the database (\(WSAConfig.redact(conninfo: configuration.conninfo))): \(error.message)")
        }
        try LoadServerError.mapping("check the database") {
            let q3c = try connection.query("SELECT extversion FROM pg_extension WHERE extname = 'q3c'")
            guard !q3c.isEmpty else {
                throw LoadServerError(.databaseError,
                                      "q3c is not installed in the database: install Debian's postgresql-15-q3c and run `dbrpcserver migrate`")
            }
            let tables = try connection.queryValue(Int.self, """
                SELECT count(*)::int FROM information_schema.columns
                WHERE table_schema = 'public' AND lower(table_name) = 'programmecurationhistory'
                  AND lower(column_name) = 'command'
                """)
            guard tables == 1 else {
                throw LoadServerError(.databaseError,
                                      "the database schema is not migrated: run `dbrpcserver migrate`")
            }
            guard try connection.tryAdvisoryLock(Self.instanceLockKey) else {
                let other = try connection.query("""
                    SELECT a.application_name, a.client_addr::text AS addr, a.pid
                    FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                    WHERE l.locktype = 'advisory' AND l.objid = \(Int64(Self.instanceLockKey & 0xffff_ffff))
                      AND l.granted
                    """)
                let who = other.first.map { row in
                    "\((try? row.decode(String?.self, "application_name")) ?? nil ?? "?") (backend \((try? row.decode(Int32.self, "pid")) ?? 0))"
                } ?? "another server"
                throw LoadServerError(.busy, "another dbrpcserver already serves this database: \(who)")
            }
            let abandoned = try connection.execute("""
                UPDATE ProgrammeCurationHistory
                SET status = 'failed', endedAt = now(),
                    errorText = 'the load server stopped while the run was open; its writes were rolled back'
                WHERE status = 'started'
                """, [])
            if abandoned > 0 {
                logger.warning("marked \(abandoned) run(s) left open by an earlier server as failed")
            }
        }
        instanceLock.withLock { $0 = connection }
        let monitor = Thread { [self] in self.monitorLoop() }
        monitor.name = "dbrpc-monitor"
        monitor.start()
    }

    /// Stops taking steps, rolls back the open ones (recording them as failed) and closes the
    /// connections.
    public func shutdown(reason: String = "the load server shut down") async {
        accepting.withLock { $0 = false }
        monitorStop.withLock { $0 = true }
        let open = steps.withLock { Array($0.values) }
        for step in open {
            _ = try? await threads.run { self.abort(step, reason: "\(reason) while the run was open; its writes were rolled back") }
        }
        _ = try? await threads.run {
            self.connections.close()
            self.instanceLock.withLock { $0?.close(); $0 = nil }
        }
        threads.shutdown()
    }

    /// Key of the advisory lock that makes one server per database.
    static let instanceLockKey: Int64 = 0x5753_4144_4250_4331  // "WSADBPC1"

    // MARK: Lease

    /// Grants the lease to `holder`, waiting up to `wait` for the current holder.
    public func acquire(holder: String, ttl: Duration?, wait: Duration) async throws -> LeaseGrant {
        let ttl = ttl ?? configuration.defaultLeaseTTL
        let grant = try await WriteLease.acquire(wait: wait, lockWait: .seconds(2)) { attemptWait in
            try await threads.run {
                try self.connections.withConnection { db in
                    try WriteLease(connection: db).tryAcquire(holder: holder, ttl: ttl,
                                                              lockWait: max(.milliseconds(50), attemptWait))
                }
            }
        }
        logger.info("write lease granted to \"\(holder)\" (token \(grant.token))")
        return grant
    }

    /// Extends the lease of `token`.
    public func heartbeat(holder: String, token: FencingToken, ttl: Duration?) async throws -> LeaseRenewal {
        try await threads.run {
            try self.connections.withConnection { db in
                try WriteLease(connection: db).heartbeat(holder: holder, token: token, ttl: ttl)
            }
        }
    }

    /// Ends the lease of `token`, rolling back its steps still open first.
    public func release(holder: String, token: FencingToken) async throws -> Bool {
        try await threads.run {
            let open = self.steps.withLock { $0.values.filter { $0.token == token } }
            for step in open {
                self.abort(step, reason: "the write lease (token \(token)) was released while the run was open; its writes were rolled back")
            }
            let released = try self.connections.withConnection { db in
                try WriteLease(connection: db).release(holder: holder, token: token)
            }
            if released { self.logger.info("write lease of \"\(holder)\" (token \(token)) released") }
            return released
        }
    }

    /// The lease as it stands.
    public func leaseStatus() async throws -> LeaseStatus {
        try await threads.run {
            try self.connections.withConnection { db in try WriteLease(connection: db).status() }
        }
    }

    /// The steps open now: cuEventID, token, holder, seconds open.
    public var openSteps: [(cuEventID: Int, token: FencingToken, holder: String, since: Date)] {
        steps.withLock { $0.values.map { ($0.cuEventID, $0.token, $0.holder, $0.openedAt) } }
            .sorted { $0.cuEventID < $1.cuEventID }
    }

    // MARK: Monitor

    private func monitorLoop() {
        while !monitorStop.withLock({ $0 }) {
            Thread.sleep(forTimeInterval: configuration.monitorInterval.secondsValue)
            let open = steps.withLock { Array($0.values) }
            guard !open.isEmpty else { continue }
            let status: LeaseStatus
            do {
                status = try connections.withConnection { db in try WriteLease(connection: db).status() }
            } catch {
                logger.warning("lease monitor cannot read the lease: \(error)")
                continue
            }
            for step in open {
                if let reason = Self.lostLeaseReason(step.token, status) {
                    logger.error("rolling back run \(step.cuEventID) of \"\(step.holder)\": \(reason)")
                    abort(step, reason: "\(reason); the run's writes were rolled back")
                }
            }
        }
    }

    static func lostLeaseReason(_ token: FencingToken, _ status: LeaseStatus) -> String? {
        if status.token != token {
            return "the write lease (token \(token)) was superseded by token \(status.token)"
        }
        switch status.state {
        case .held: return nil
        case .expired: return "the write lease (token \(token)) expired: its holder stopped sending heartbeats"
        case .free: return "the write lease (token \(token)) was released"
        }
    }

    /// Rolls a step back from outside (its backend is terminated, so this works even while a
    /// COPY runs on it) and records the run as failed with `reason`.
    func abort(_ step: OpenStep, reason: String) {
        guard step.markAborted(reason) else { return }
        steps.withLock { _ = $0.removeValue(forKey: step.cuEventID) }
        do {
            try connections.withConnection { db in
                _ = try db.query("SELECT pg_terminate_backend($1)", [.int32(step.backendPID)])
            }
        } catch {
            logger.warning("cannot terminate the backend of run \(step.cuEventID): \(error)")
        }
        recordFailure(step.cuEventID, reason)
    }

    /// Marks a started run failed (in its own transaction).
    func recordFailure(_ cuEventID: Int, _ reason: String) {
        do {
            try connections.withConnection { db in
                _ = try db.execute("""
                    UPDATE ProgrammeCurationHistory
                    SET status = 'failed', endedAt = now(), errorText = $2
                    WHERE cuEventID = $1 AND status = 'started'
                    """, [.int32(Int32(cuEventID)), .text(reason)])
            }
        } catch {
            logger.error("cannot record the failure of run \(cuEventID): \(error)")
        }
    }
}
