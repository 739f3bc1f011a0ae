import Curation
import Foundation
import Logging
import Postgres
import XMLRPC

/// Every database write of a curation program (seed 004 §6.2), each an XML-RPC call to
/// dbrpcserver: the write lease (kept alive by heartbeats in the background while the CU
/// works), curation steps recorded in ProgrammeCurationHistory, and exactly-once loads of
/// transaction files. It never opens a database connection.
///
/// ```swift
/// let db = try DbHandler(config: config, program: "cu4")
/// try await db.writeLock()
/// let step = try await db.beginStep(cu: 4, programme: "LAS")
/// for file in transactionFiles { try await db.loadTransactionData(file, in: step) }
/// try await db.updateCurationLog(step, status: .succeeded)
/// try await db.writeUnlock()
/// ```
public final class DbHandler: Sendable {
    /// The holder name this process uses for the lease: `program@host:pid`.
    public let holder: String
    /// Where transaction files should be written: the spool, shared with the server when the
    /// archive file system is shared (then nothing needs uploading).
    public let transactionDirectory: URL
    let transport: RPCTransport
    let logger: Logger
    let program: String
    let lease = LeaseBox()

    /// A client for the server of `config` ([rpc] url, user, password).
    public init(config: WSAConfig, program: String, timeout: Duration = .seconds(900)) throws(WrapperError) {
        let password: String
        do {
            guard let secret = try config.rpc.resolvedPassword() else {
                throw WrapperError(.configuration, "no [rpc] password or password_file: dbrpcserver needs credentials")
            }
            password = secret
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.configuration, "\(error)")
        }
        self.transport = try RPCTransport(url: config.rpc.url, user: config.rpc.user, password: password,
                                          timeout: timeout)
        self.program = program
        self.holder = "\(program)@\(ProcessInfo.processInfo.hostName):\(getpid())"
        self.transactionDirectory = URL(fileURLWithPath: config.paths.spool, isDirectory: true)
            .appendingPathComponent("transactions", isDirectory: true)
        self.logger = Logger(label: "wsa.\(program).dbhandler")
    }

    deinit { lease.stopHeartbeat() }

    // MARK: Lease

    /// The lease this handler holds.
    public struct Lease: Sendable, Hashable {
        public var holder: String
        public var token: Int
        public var expiresAt: String
    }

    /// Takes the write lease, waiting up to `wait` for another holder, and keeps it alive with
    /// heartbeats every third of its TTL until ``writeUnlock()``. Throws with code 2001
    /// (``WrapperError/Code/leaseHeld``) naming the holder when the wait ends without it.
    @discardableResult
    public func writeLock(ttl: Duration? = nil, wait: Duration = .zero) async throws(WrapperError) -> Lease {
        let params: [XMLRPCValue] = [.string(holder), ttl.map { .double($0.secondsValue) } ?? .nil,
                                     .double(wait.secondsValue)]
        // The call and the first heartbeat run on an OS thread: the lease is kept alive from the
        // moment it is granted, however late this task is resumed on a busy pool.
        let result: Result<Lease, WrapperError> = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                do throws(WrapperError) {
                    let value = try transport.callBlocking("writeLock", params)
                    guard let token = value.structValue?["token"]?.intValue,
                          let valid = value.structValue?["validSeconds"]?.doubleValue else {
                        throw WrapperError(.badResponse, "writeLock: the answer has no token")
                    }
                    let granted = Lease(holder: holder, token: token,
                                        expiresAt: value.structValue?["expiresAt"]?.stringValue ?? "")
                    lease.grant(granted, validFor: valid)
                    startHeartbeat(token: token, interval: max(0.2, valid / 3))
                    logger.info("write lease granted (token \(token), \(String(format: "%.0f", valid)) s)")
                    continuation.resume(returning: .success(granted))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "wsa-writelock"
            thread.start()
        }
        return try result.get()
    }

    /// Ends the lease. Steps still open under it are rolled back by the server.
    public func writeUnlock() async throws(WrapperError) {
        guard let current = lease.current else { return }
        lease.stopHeartbeat()
        lease.clear()
        _ = try await transport.call("writeUnlock", [.string(current.holder), .int(current.token)])
        logger.info("write lease released (token \(current.token))")
    }

    /// The current lease's token, or an error saying why there is none.
    func token() throws(WrapperError) -> Int {
        if let reason = lease.lostReason {
            throw WrapperError(.noLease, "the write lease was lost: \(reason)")
        }
        guard let current = lease.current else {
            throw WrapperError(.noLease, "no write lease: call writeLock() first")
        }
        return current.token
    }

    /// Beats on an OS thread of its own, so that a CU busy with blocking work on every task
    /// thread cannot starve its own lease.
    private func startHeartbeat(token: Int, interval: Double) {
        let transport = self.transport, holder = self.holder, lease = self.lease, logger = self.logger
        let stop = StopFlag()
        let thread = Thread {
            var failures = 0
            while !stop.wait(seconds: interval) {
                do throws(WrapperError) {
                    let value = try transport.callBlocking("heartbeat", [.string(holder), .int(token)])
                    failures = 0
                    if let valid = value.structValue?["validSeconds"]?.doubleValue { lease.renewed(validFor: valid) }
                } catch {
                    if error.isLeaseLost {
                        lease.lose(error.message)
                        logger.error("write lease lost: \(error.message)")
                        return
                    }
                    failures += 1
                    logger.warning("heartbeat \(failures) failed: \(error.message)")
                    if lease.hasExpiredLocally {
                        lease.lose("no heartbeat answered before the lease expired (\(error.message))")
                        logger.error("write lease lost: no heartbeat answered before it expired")
                        return
                    }
                }
            }
        }
        thread.name = "wsa-heartbeat"
        thread.start()
        lease.setHeartbeat(stop)
    }

    /// The lease as the server sees it.
    public func leaseStatus() async throws(WrapperError) -> [String: String] {
        let value = try await transport.call("leaseStatus", [])
        return (value.structValue ?? [:]).mapValues { v in
            v.stringValue ?? v.intValue.map(String.init) ?? v.doubleValue.map { String($0) } ?? ""
        }
    }

    // MARK: Steps

    /// One curation run in progress: its writes commit together with its success record.
    public struct Step: Sendable, Hashable {
        public var cuEventID: Int
        public var cu: Int
        public var programme: String?
    }

    /// How a step ended.
    public enum Status: String, Sendable {
        case succeeded, failed
    }

    /// Records a run of CU `cu` for `programme` as started and opens its transaction. The
    /// command line is this process's; `WSA_RESUME_OF` (set by resume) marks the run it makes good.
    public func beginStep(cu: Int, programme: String?) async throws(WrapperError) -> Step {
        let token = try token()
        var run: [String: XMLRPCValue] = [
            "cu": .int(cu),
            "command": .array(CommandLine.arguments.enumerated().map { index, word in
                .string(index == 0 ? URL(fileURLWithPath: word).lastPathComponent : word)
            }),
            "host": .string(ProcessInfo.processInfo.hostName),
            "version": .string(WSAVersion.current),
        ]
        if let programme { run["programme"] = .string(programme) }
        if let resume = ProcessInfo.processInfo.environment["WSA_RESUME_OF"].flatMap(Int.init) {
            run["resumeOf"] = .int(resume)
        }
        let value = try await transport.call("beginStep", [.int(token), .struct(run)])
        guard let id = value.intValue else { throw WrapperError(.badResponse, "beginStep: no cuEventID in the answer") }
        logger.info("run \(id) of CU\(cu) \(programme ?? "") begun")
        return Step(cuEventID: id, cu: cu, programme: programme)
    }

    /// Ends a step (seed 004's updateCurationLog): `.succeeded` commits its writes with the
    /// success record, `.failed` rolls them back and records `message` as the run's error.
    @discardableResult
    public func updateCurationLog(_ step: Step, status: Status, message: String = "")
        async throws(WrapperError) -> (loads: Int, rows: Int)
    {
        let token = try token()
        let value = try await transport.call("updateCurationLog",
                                             [.int(token), .int(step.cuEventID), .string(status.rawValue), .string(message)])
        let loads = value.structValue?["loads"]?.intValue ?? 0, rows = value.structValue?["rows"]?.intValue ?? 0
        logger.info("run \(step.cuEventID) \(status.rawValue): \(loads) file(s), \(rows) row(s)")
        return (loads, rows)
    }

    // MARK: Loads

    /// What a load gave.
    public struct LoadOutcome: Sendable, Hashable {
        public var table: String
        public var rows: Int
        /// True when the file had been loaded before: nothing was copied this time.
        public var alreadyLoaded: Bool
        /// True when the file had to be uploaded to the server's spool.
        public var uploaded: Bool
    }

    /// Loads a transaction file within `step`, exactly once: the server loads it from its spool
    /// (shared file system), or the file is uploaded first when the server does not see it.
    @discardableResult
    public func loadTransactionData(_ data: TransactionData, in step: Step) async throws(WrapperError) -> LoadOutcome {
        let token = try token()
        let params: [XMLRPCValue] = [.int(token), .int(step.cuEventID), .string(data.sha256)]
        var uploaded = false
        let value: XMLRPCValue
        do {
            value = try await transport.call("loadTransactionData", params)
        } catch where error.code == .transactionFileMissing {
            let manifestURL = data.dataFile.deletingPathExtension().appendingPathExtension(TransactionFile.manifestExtension)
            guard let manifest = FileManager.default.contents(atPath: manifestURL.path) else {
                throw WrapperError(.configuration, "cannot read the manifest \(manifestURL.path)")
            }
            try await transport.upload(data: data.dataFile, manifestJSON: manifest, checksum: data.sha256)
            uploaded = true
            value = try await transport.call("loadTransactionData", params)
        }
        let m = value.structValue ?? [:]
        return LoadOutcome(table: m["table"]?.stringValue ?? data.table, rows: m["rows"]?.intValue ?? 0,
                           alreadyLoaded: m["alreadyLoaded"]?.boolValue ?? false, uploaded: uploaded)
    }

    /// The server's version and open runs (a call that does not touch the database).
    public func serverInfo() async throws(WrapperError) -> [String: String] {
        let value = try await transport.call("serverInfo", [])
        return (value.structValue ?? [:]).compactMapValues { $0.stringValue }
    }

    // MARK: Runs

    /// Failed runs not yet made good (what `resume` would run again): cuEventID, CU, programme, error.
    public func failedRuns() async throws(WrapperError) -> [(cuEventID: Int, cu: String, programme: String, error: String)] {
        let value = try await transport.call("failedRuns", [])
        return (value.arrayValue ?? []).compactMap { run in
            guard let m = run.structValue, let id = m["cuEventID"]?.intValue else { return nil }
            return (id, m["cu"]?.stringValue ?? "", m["programme"]?.stringValue ?? "", m["errorText"]?.stringValue ?? "")
        }
    }
}

/// The lease a DbHandler holds, its heartbeat task and whether it was lost.
final class LeaseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lease: DbHandler.Lease?
    private var heartbeat: StopFlag?
    private var lost: String?
    private var localExpiry = ContinuousClock.now

    var current: DbHandler.Lease? { lock.withLock { lease } }
    var lostReason: String? { lock.withLock { lost } }
    var hasExpiredLocally: Bool { lock.withLock { ContinuousClock.now >= localExpiry } }

    func grant(_ lease: DbHandler.Lease, validFor seconds: Double) {
        lock.withLock {
            self.lease = lease
            lost = nil
            localExpiry = ContinuousClock.now + .seconds(seconds)
        }
    }

    func renewed(validFor seconds: Double) {
        lock.withLock { localExpiry = ContinuousClock.now + .seconds(seconds) }
    }

    func lose(_ reason: String) { lock.withLock { lost = reason } }

    func clear() { lock.withLock { lease = nil; lost = nil } }

    func setHeartbeat(_ flag: StopFlag) {
        lock.withLock {
            heartbeat?.stop()
            heartbeat = flag
        }
    }

    func stopHeartbeat() {
        lock.withLock {
            heartbeat?.stop()
            heartbeat = nil
        }
    }
}

/// A stop signal a thread can sleep on.
final class StopFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps up to `seconds`; returns true when stopped.
    func wait(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped && condition.wait(until: deadline) {}
        return stopped
    }
}
