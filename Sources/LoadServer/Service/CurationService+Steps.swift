import Curation
import Foundation
import Postgres
public import RPCContract
import Logging
import SystemSupport
import TransactionFormat

extension CurationService {
    /// Begins a step: records the run as started (committed at once, so it is visible while it
    /// runs) and opens the step's transaction, which begins with the write fence of `token`.
    /// Returns the run's cuEventID, which every write of the step carries.
    public func beginStep(token: FencingToken, _ request: StepRequest) async throws -> Int {
        guard (1...20).contains(request.cuID) else {
            throw LoadServerError(.invalidArgument, "no curation use case CU\(request.cuID): expected 1 to 20")
        }
        guard request.command.count <= 1000, request.host.count <= 256, request.version.count <= 32 else {
            throw LoadServerError(.invalidArgument, "command (≤ 1000 words), host (≤ 256) or version (≤ 32) too long")
        }
        return try await threads.run { try self.beginStepBlocking(token: token, request) }
    }

    private func beginStepBlocking(token: FencingToken, _ request: StepRequest) throws -> Int {
        guard accepting.withLock({ $0 }) else {
            throw LoadServerError(.busy, "the load server is shutting down; retry when it is back")
        }
        let open = steps.withLock { $0.count }
        guard open < configuration.maximumOpenSteps else {
            throw LoadServerError(.busy, "\(open) steps are open, the most this server allows; retry later")
        }
        let commandJSON = String(decoding: try JSONSerialization.data(withJSONObject: request.command), as: UTF8.self)
        let (cuEventID, holder) = try connections.withConnection { db in
            try LoadServerError.mapping("record the start of the run") {
                try db.transaction { tx -> (Int, String) in
                    let holder = try WriteLease.checkFence(token: token, on: tx)
                    let programmeID = try Self.programmeID(request.programme, on: tx)
                    if let resumeOf = request.resumeOf {
                        let known = try tx.query("SELECT 1 FROM ProgrammeCurationHistory WHERE cuEventID = $1",
                                                 [.int32(Int32(clamping: resumeOf))])
                        guard !known.isEmpty else {
                            throw LoadServerError(.invalidArgument, "resumeOf names no run: \(resumeOf)")
                        }
                    }
                    let id = try tx.queryValue(Int.self, """
                        INSERT INTO ProgrammeCurationHistory
                            (cuID, programmeID, hostName, version, arguments, command, holder,
                             fencingToken, resumeOf)
                        VALUES (\(Int16(request.cuID)), \(programmeID), \(request.host), \(request.version),
                                \(request.command.dropFirst().joined(separator: " ")),
                                \(commandJSON)::jsonb, \(holder), \(token), \(request.resumeOf.map { Int32(clamping: $0) }))
                        RETURNING cuEventID
                        """)
                    return (id, holder)
                }
            }
        }
        do {
            let connection = try LoadServerError.mapping("open the run's transaction") {
                try connections.makeConnection(purpose: "run \(cuEventID)")
            }
            try LoadServerError.mapping("open the run's transaction") {
                _ = try connection.execute(unsafeSQL: "BEGIN")
                try WriteLease.checkFence(token: token, on: connection)
            }
            let step = OpenStep(cuEventID: cuEventID, token: token, holder: holder, connection: connection)
            steps.withLock { $0[cuEventID] = step }
            logger.info("run \(cuEventID) (CU\(request.cuID) \(request.programme ?? "-")) begun by \"\(holder)\" under token \(token)")
            return cuEventID
        } catch {
            recordFailure(cuEventID, "the run's transaction could not be opened: \(error)")
            throw error
        }
    }

    /// Ends a step. `succeeded`: checks the fence, records success and commits, so the step's
    /// writes and its success record become visible together; if the commit fails the run is
    /// recorded as failed and ``LoadServerError/Code/stepRolledBack`` is thrown. Otherwise rolls
    /// the step back and records the run as failed with `message`.
    public func finishStep(token: FencingToken, cuEventID: Int, succeeded: Bool,
                           message: String) async throws -> StepOutcome {
        try await threads.run {
            let step = try self.step(cuEventID, token: token)
            step.gate.lock()
            defer { step.gate.unlock() }
            if let reason = step.aborted {
                throw LoadServerError(.stepRolledBack, "run \(cuEventID) was rolled back: \(reason)")
            }
            let (loads, rows) = step.loadSummary
            if !succeeded {
                self.steps.withLock { _ = $0.removeValue(forKey: cuEventID) }
                _ = try? step.connection.execute(unsafeSQL: "ROLLBACK")
                step.connection.close()
                let text = message.isEmpty ? "failed (no reason given)" : String(message.prefix(8000))
                self.recordFailure(cuEventID, text)
                self.logger.info("run \(cuEventID) failed and was rolled back: \(text)")
                return StepOutcome(cuEventID: cuEventID, status: "failed", loads: 0, rows: 0)
            }
            do {
                try LoadServerError.mapping("commit run \(cuEventID)") {
                    try WriteLease.checkFence(token: token, on: step.connection)
                    let updated = try step.connection.execute("""
                        UPDATE ProgrammeCurationHistory
                        SET status = 'succeeded', endedAt = now(), errorText = $2
                        WHERE cuEventID = $1 AND status = 'started'
                        """, [.int32(Int32(cuEventID)), .text(String(message.prefix(8000)))])
                    guard updated == 1 else {
                        throw LoadServerError(.stepRolledBack, "run \(cuEventID) is no longer open in ProgrammeCurationHistory")
                    }
                    let tag = try step.connection.query("COMMIT", []).commandTag
                    guard tag == "COMMIT" else {
                        throw LoadServerError(.stepRolledBack, "run \(cuEventID): PostgreSQL rolled the transaction back")
                    }
                }
            } catch let error as LoadServerError {
                self.steps.withLock { _ = $0.removeValue(forKey: cuEventID) }
                _ = try? step.connection.execute(unsafeSQL: "ROLLBACK")
                step.connection.close()
                let reason = step.aborted ?? error.message
                self.recordFailure(cuEventID, "the commit failed: \(reason)")
                throw LoadServerError(error.isLeaseLost ? error.code : .stepRolledBack,
                                      "run \(cuEventID) was rolled back: \(reason)")
            }
            self.steps.withLock { _ = $0.removeValue(forKey: cuEventID) }
            step.connection.close()
            self.removeLoadedFiles(step)
            self.logger.info("run \(cuEventID) succeeded: \(loads) file(s), \(rows) row(s) committed")
            return StepOutcome(cuEventID: cuEventID, status: "succeeded", loads: loads, rows: rows)
        }
    }

    /// The open step `cuEventID` of `token`.
    func step(_ cuEventID: Int, token: FencingToken) throws -> OpenStep {
        guard let step = steps.withLock({ $0[cuEventID] }) else {
            throw LoadServerError(.unknownStep,
                                  "no open run \(cuEventID): it was never begun, has ended, or was rolled back (lease lost or server restarted)")
        }
        guard step.token == token else {
            throw LoadServerError(.staleToken,
                                  "run \(cuEventID) belongs to the lease with token \(step.token), not \(token)")
        }
        return step
    }

    /// The programmeID a programme name, PROJECT string or number stands for.
    static func programmeID(_ programme: String?, on db: PostgresConnection) throws -> Int32 {
        guard let programme, !programme.isEmpty else { return WSANull.int }
        let rows = try db.query("""
            SELECT programmeID FROM Programme
            WHERE upper(name) = upper($1) OR dfsIDString = $1 OR programmeID::text = $1
            """, [.text(programme)])
        guard let row = rows.first else {
            let known = try db.query("SELECT name FROM Programme WHERE programmeID > 0 ORDER BY name", [])
                .map { (try? $0.decode(String.self, "name")) ?? "" }
            throw LoadServerError(.invalidArgument,
                                  "unknown programme \"\(programme)\" (known: \(known.joined(separator: ", ")))")
        }
        return try row.decode(Int32.self, "programmeID")
    }

    // MARK: Run records

    /// Runs, newest first: all, or those with `status`.
    public func runs(status: String?, limit: Int) async throws -> [CurationRun] {
        try await threads.run {
            try self.connections.withConnection { db in
                try LoadServerError.mapping("list runs") {
                    let rows = try db.query("""
                        SELECT \(Self.runColumns)
                        FROM ProgrammeCurationHistory h
                        JOIN CurationTask t USING (cuID) JOIN Programme p USING (programmeID)
                        WHERE $1::text IS NULL OR h.status = $1
                        ORDER BY h.cuEventID DESC LIMIT $2
                        """, [status.map { .text($0) }, .int32(Int32(clamping: max(1, min(limit, 10_000))))])
                    return try rows.map(Self.run(from:))
                }
            }
        }
    }

    /// Failed runs not yet made good by a resumed run, oldest first.
    public func resumableRuns() async throws -> [CurationRun] {
        try await threads.run {
            try self.connections.withConnection { db in
                try LoadServerError.mapping("list resumable runs") {
                    let rows = try db.query("""
                        SELECT \(Self.runColumns)
                        FROM ResumableRun r JOIN ProgrammeCurationHistory h USING (cuEventID)
                        JOIN CurationTask t ON t.cuID = h.cuID JOIN Programme p ON p.programmeID = h.programmeID
                        ORDER BY h.cuEventID
                        """, [])
                    return try rows.map(Self.run(from:))
                }
            }
        }
    }

    /// The columns ``run(from:)`` reads, of ProgrammeCurationHistory `h`, CurationTask `t` and
    /// Programme `p`.
    static let runColumns = """
        h.cuEventID, h.cuID, t.name AS cuName, p.name AS programme, h.status, h.startedAt, h.endedAt,
        h.hostName, h.version, h.holder, h.fencingToken, h.command::text AS command, h.errorText, h.resumeOf
        """

    static func run(from row: PostgresRow) throws -> CurationRun {
        let commandText = try row.decode(String.self, "command")
        let command = (try? JSONSerialization.jsonObject(with: Data(commandText.utf8))) as? [String] ?? []
        return CurationRun(cuEventID: try row.decode(Int.self, "cueventid"),
                           cuID: try row.decode(Int.self, "cuid"),
                           cuName: try row.decode(String.self, "cuname"),
                           programme: try row.decode(String.self, "programme"),
                           status: try row.decode(String.self, "status"),
                           startedAt: try row.decode(Date.self, "startedat"),
                           endedAt: try row.decode(Date?.self, "endedat"),
                           host: try row.decode(String.self, "hostname"),
                           version: try row.decode(String.self, "version"),
                           holder: try row.decode(String.self, "holder"),
                           token: try row.decode(Int64.self, "fencingtoken"),
                           command: command,
                           errorText: try row.decode(String.self, "errortext"),
                           resumeOf: try row.decode(Int?.self, "resumeof"))
    }
}
