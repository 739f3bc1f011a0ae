public import Curation
public import Foundation
import Logging
import XMLRPC
public import RPCContract
public import AppDriver
import TransactionFormat
import SystemSupport

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
    let lease: LeaseKeeper

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
        self.lease = LeaseKeeper(transport: transport, holder: holder, logger: logger)
    }

    deinit { lease.abandon() }

    // MARK: Lease

    /// Takes the write lease, waiting up to `wait` for another holder, and keeps it alive with
    /// heartbeats (every third of its validity, as ``LeaseState`` decides) until
    /// ``writeUnlock()``. Throws with the fault ``ServerFault/leaseHeld`` naming the holder when
    /// the wait ends without it.
    @discardableResult
    public func writeLock(ttl: Duration? = nil, wait: Duration = .zero) async throws(WrapperError) -> LeaseGrant {
        // The call runs on an OS thread: the lease is kept alive from the moment it is granted,
        // however late this task is resumed on a busy pool.
        let lease = self.lease, logger = self.logger
        let result: Result<LeaseGrant, WrapperError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(WrapperError) {
                    let grant = try lease.acquire(ttl: ttl, wait: wait)
                    logger.info("write lease granted (token \(grant.token), \(String(format: "%.0f", grant.validFor.secondsValue)) s)")
                    continuation.resume(returning: .success(grant))
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
        try await lease.release()
    }

    /// Calls a write method of the server under the lease: a refusal by the fence (stale,
    /// expired or released token) tells the lease machine the lease is lost.
    func write<Call: RPCCall>(_ call: Call.Type, _ params: (FencingToken) -> Call.Params) async throws(WrapperError)
        -> Call.Result
    {
        let token = try lease.token()
        do {
            return try await transport.call(call, params(token))
        } catch {
            if let fault = error.fault, fault.isLeaseLost { lease.writeRefused(token: token, fault: fault) }
            throw error
        }
    }

    /// The lease as the server sees it.
    public func leaseStatus() async throws(WrapperError) -> LeaseStatus {
        try await transport.call(RPC.LeaseStatusCall.self, ())
    }

    // MARK: Steps

    /// One curation run in progress: its writes commit together with its success record.
    public struct Step: Sendable, Hashable {
        public var cuEventID: Int
        public var cu: Int
        public var programme: String?
    }

    /// How a step ended.
    public typealias Status = RPC.UpdateCurationLog.Status

    /// Records a run of CU `cu` for `programme` as started and opens its transaction. The
    /// command line is this process's; `WSA_RESUME_OF` (set by resume) marks the run it makes good.
    public func beginStep(cu: Int, programme: String?) async throws(WrapperError) -> Step {
        let command = CommandLine.arguments.enumerated().map { index, word in
            index == 0 ? URL(fileURLWithPath: word).lastPathComponent : word
        }
        let request = StepRequest(cuID: cu, programme: programme, command: command, host: ProcessInfo.processInfo.hostName,
                                  version: WSAVersion.current,
                                  resumeOf: ProcessInfo.processInfo.environment["WSA_RESUME_OF"].flatMap(Int.init))
        let id = try await write(RPC.BeginStep.self) { ($0, request) }
        logger.info("run \(id) of CU\(cu) \(programme ?? "") begun")
        return Step(cuEventID: id, cu: cu, programme: programme)
    }

    /// Ends a step (seed 004's updateCurationLog): `.succeeded` commits its writes with the
    /// success record, `.failed` rolls them back and records `message` as the run's error.
    @discardableResult
    public func updateCurationLog(_ step: Step, status: Status, message: String = "")
        async throws(WrapperError) -> (loads: Int, rows: Int)
    {
        let outcome = try await write(RPC.UpdateCurationLog.self) {
            .init(token: $0, cuEventID: step.cuEventID, status: status, message: message)
        }
        logger.info("run \(step.cuEventID) \(status.rawValue): \(outcome.loads) file(s), \(outcome.rows) row(s)")
        return (outcome.loads, outcome.rows)
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
        let load = { (token: FencingToken) in (token, step.cuEventID, data.sha256) }
        var uploaded = false
        let result: LoadResult
        do {
            result = try await write(RPC.LoadTransactionData.self, load)
        } catch where error.fault == .transactionFileMissing {
            let manifestURL = data.dataFile.deletingPathExtension().appendingPathExtension(TransactionFile.manifestExtension)
            guard let manifest = FileManager.default.contents(atPath: manifestURL.path) else {
                throw WrapperError(.configuration, "cannot read the manifest \(manifestURL.path)")
            }
            try await transport.upload(data: data.dataFile, manifestJSON: manifest, checksum: data.sha256)
            uploaded = true
            result = try await write(RPC.LoadTransactionData.self, load)
        }
        return LoadOutcome(table: result.table, rows: result.rows, alreadyLoaded: result.alreadyLoaded, uploaded: uploaded)
    }

    /// The server's version and open runs (a call that does not touch the database).
    public func serverInfo() async throws(WrapperError) -> RPC.ServerInfo.Result {
        try await transport.call(RPC.ServerInfo.self, ())
    }

    // MARK: Runs

    /// Failed runs not yet made good (what `resume` would run again).
    public func failedRuns() async throws(WrapperError) -> [CurationRun] {
        try await transport.call(RPC.FailedRuns.self, ())
    }
}
