import Foundation
import Curation
import XMLRPC

/// dbrpcserver's XML-RPC methods over a ``CurationService``.
///
/// Roles: `curator` may call everything; `reader` only the methods that read (lease status,
/// runs, server information) and `system.*`. Times are ISO 8601 UTC strings; fencing tokens are
/// ints (a string of digits is accepted too); faults carry ``LoadServerError`` codes.
public enum LoadServerMethods {
    /// The role that writes.
    public static let curator = "curator"
    /// The role that may only read.
    public static let reader = "reader"

    /// The registry of every method, with help texts and signatures.
    public static func registry(service: CurationService, resumer: RunResumer?,
                                limits: XMLRPCLimits = .default) -> XMLRPCMethodRegistry {
        var registry = XMLRPCMethodRegistry(limits: limits)
        let readers = XMLRPCMethodAccess.roles(curator, reader)
        let curators = XMLRPCMethodAccess.roles(curator)
        let startedAt = Date()

        registry.register("serverInfo", help: """
            serverInfo() -> struct: the server's version, start time, spool, default lease TTL \
            and the runs open now.
            """, signature: .init(.struct), access: readers) { _, _ in
            let open = service.openSteps
            return .struct([
                "version": .string(WSAVersion.current),
                "startedAt": .string(isoTime(startedAt)),
                "spool": .string(service.transactionDirectory.path),
                "defaultLeaseSeconds": .double(service.configuration.defaultLeaseTTL.secondsValue),
                "openRuns": .array(open.map {
                    .struct(["cuEventID": .int($0.cuEventID), "token": .int(Int($0.token)),
                             "holder": .string($0.holder), "since": .string(isoTime($0.since))])
                }),
            ])
        }

        registry.register("leaseStatus", help: """
            leaseStatus() -> struct {state: free|held|expired, holder, token, grantedAt, \
            heartbeatAt, expiresAt, releasedAt, ttlSeconds, databaseTime}: the write lease as it \
            stands (times ISO 8601 UTC; absent when not set).
            """, signature: .init(.struct), access: readers) { _, _ in
            try await faulting { encode(try await service.leaseStatus()) }
        }

        registry.register("writeLock", help: """
            writeLock(holder [, ttlSeconds [, waitSeconds]]) -> struct {holder, token, grantedAt, \
            expiresAt, validSeconds}: grants the write lease to holder (unique per process, e.g. \
            cu4@host:pid) with a fencing token that only grows. The lease lives ttlSeconds \
            (default: the server's) unless renewed by heartbeat. When another holder has it, \
            waits up to waitSeconds (default 0) and then fails with fault 2001 naming the holder, \
            since and until when.
            """, signatures: [.init(.struct, .string), .init(.struct, .string, .any),
                              .init(.struct, .string, .any, .double)],
            access: curators) { _, params in
            try await faulting {
                let holder: String = try params.parameter(0)
                let ttl = try seconds(params, 1, "ttlSeconds")
                let wait = try seconds(params, 2, "waitSeconds") ?? .zero
                let grant = try await service.acquire(holder: holder, ttl: ttl, wait: min(wait, .seconds(600)))
                return .struct(["holder": .string(grant.holder), "token": tokenValue(grant.token),
                                "grantedAt": .string(isoTime(grant.grantedAt)),
                                "expiresAt": .string(isoTime(grant.expiresAt)),
                                "validSeconds": .double(grant.validFor.secondsValue)])
            }
        }

        registry.register("heartbeat", help: """
            heartbeat(holder, token [, ttlSeconds]) -> struct {expiresAt, validSeconds}: keeps \
            the lease alive. Faults: 2002 stale token, 2003 expired (acquire again), 2004 released.
            """, signatures: [.init(.struct, .string, .any), .init(.struct, .string, .any, .any)],
            access: curators) { _, params in
            try await faulting {
                let renewal = try await service.heartbeat(holder: try params.parameter(0),
                                                          token: try token(params, 1),
                                                          ttl: try seconds(params, 2, "ttlSeconds"))
                return .struct(["expiresAt": .string(isoTime(renewal.expiresAt)),
                                "validSeconds": .double(max(0, renewal.expiresAt.timeIntervalSince(renewal.databaseTime)))])
            }
        }

        registry.register("writeUnlock", help: """
            writeUnlock(holder, token) -> boolean: ends the lease (true; false when it was \
            already released). Runs still open under it are rolled back and recorded as failed.
            """, signature: .init(.boolean, .string, .any), access: curators) { _, params in
            try await faulting {
                .bool(try await service.release(holder: try params.parameter(0), token: try token(params, 1)))
            }
        }

        registry.register("beginStep", help: """
            beginStep(token, run) -> int cuEventID: records a run of a CU as started and opens \
            its transaction. run is a struct {cu: int 1-20 or "CU4", programme: "LAS" (name, \
            PROJECT or id; optional), command: [argv...], host, version, resumeOf: int (optional)}. \
            Every write of the run carries its cuEventID; they become visible together when \
            updateCurationLog records success, and never otherwise.
            """, signature: .init(.int, .any, .struct), access: curators) { _, params in
            try await faulting {
                let run = params[1]
                let cuValue = run.structValue?["cu"] ?? .nil
                let cuID: Int
                if let n = cuValue.intValue {
                    cuID = n
                } else if let s = cuValue.stringValue, s.uppercased().hasPrefix("CU"), let n = Int(s.dropFirst(2)) {
                    cuID = n
                } else {
                    throw LoadServerError(.invalidArgument, "run.cu should be 1 to 20 or \"CU1\" to \"CU20\"")
                }
                let programme: XMLRPCValue = (try run.member("programme", as: XMLRPCValue?.self)) ?? .nil
                let programmeText: String? = programme.intValue.map(String.init) ?? programme.stringValue
                let request = StepRequest(cuID: cuID, programme: programmeText,
                                          command: try run.member("command", as: [String]?.self) ?? [],
                                          host: try run.member("host", as: String?.self) ?? "unknown",
                                          version: try run.member("version", as: String?.self) ?? "unknown",
                                          resumeOf: try run.member("resumeOf", as: Int?.self))
                return .int(try await service.beginStep(token: try token(params, 0), request))
            }
        }

        registry.register("updateCurationLog", help: """
            updateCurationLog(token, cuEventID, status, message) -> struct {cuEventID, status, \
            loads, rows}: ends a run. status "succeeded" commits its writes together with the \
            success record (fault 2009 if the commit fails: nothing is visible); "failed" rolls \
            them back and records message as the run's error.
            """, signature: .init(.struct, .any, .int, .string, .string), access: curators) { _, params in
            try await faulting {
                let status: String = try params.parameter(2)
                guard status == "succeeded" || status == "failed" else {
                    throw LoadServerError(.invalidArgument, "status should be \"succeeded\" or \"failed\", not \"\(status.prefix(40))\"")
                }
                let outcome = try await service.finishStep(token: try token(params, 0),
                                                           cuEventID: try params.parameter(1),
                                                           succeeded: status == "succeeded",
                                                           message: try params.parameter(3))
                return .struct(["cuEventID": .int(outcome.cuEventID), "status": .string(outcome.status),
                                "loads": .int(outcome.loads), "rows": .int(outcome.rows)])
            }
        }

        registry.register("loadTransactionData", help: """
            loadTransactionData(token, cuEventID, checksum) -> struct {checksum, table, rows, \
            alreadyLoaded, cuEventID, seconds}: loads the transaction file named by its SHA-256 \
            from the spool into its table within the run, exactly once (a file loaded before is \
            not copied again: alreadyLoaded is true and the first result is returned). Faults: \
            2007 not in the spool (upload it), 2008 refused (checksum, size, rows, columns or \
            table do not match; nothing written).
            """, signature: .init(.struct, .any, .int, .string), access: curators) { _, params in
            try await faulting {
                let result = try await service.load(token: try token(params, 0), cuEventID: try params.parameter(1),
                                                    checksum: try params.parameter(2))
                return .struct(["checksum": .string(result.checksum), "table": .string(result.table),
                                "rows": .int(result.rows), "alreadyLoaded": .bool(result.alreadyLoaded),
                                "cuEventID": .int(result.cuEventID), "seconds": .double(result.seconds)])
            }
        }

        registry.register("uploadTransactionFile", help: """
            uploadTransactionFile(manifest, data) -> string checksum: stores a transaction file \
            (manifest: its JSON text; data: the binary COPY bytes as base64) in the server's \
            spool after checking it. Large files go faster as HTTP PUT /spool/<checksum>.
            """, signature: .init(.string, .string, .base64), access: curators) { _, params in
            try await faulting {
                let manifest: String = try params.parameter(0)
                let bytes = params[1].bytesValue ?? []
                let temporary = try service.makeUploadFile()
                defer { try? FileManager.default.removeItem(at: temporary) }
                try Data(bytes).write(to: temporary)
                return .string(try await service.spool(manifestJSON: Array(manifest.utf8), data: temporary).sha256)
            }
        }

        registry.register("listRuns", help: """
            listRuns([status [, limit]]) -> array of runs, newest first: all, or those with status \
            started|succeeded|failed (limit default 100).
            """, signatures: [.init(.array), .init(.array, .string), .init(.array, .string, .int)],
            access: readers) { _, params in
            try await faulting {
                var status: String? = try params.parameter(0)
                if status == "" || status == "all" { status = nil }
                if let status, !["started", "succeeded", "failed"].contains(status) {
                    throw LoadServerError(.invalidArgument, "status should be started, succeeded, failed or all")
                }
                let runs = try await service.runs(status: status, limit: try params.parameter(1, as: Int?.self) ?? 100)
                return .array(runs.map(encode))
            }
        }

        registry.register("failedRuns", help: """
            failedRuns() -> array of the failed runs not yet made good by a resumed run, oldest \
            first: what resume would run again.
            """, signature: .init(.array), access: readers) { _, _ in
            try await faulting { .array(try await service.resumableRuns().map(encode)) }
        }

        registry.register("resume", help: """
            resume([dryRun]) -> array of struct {cuEventID, command, started, pid, message}: \
            runs every failed run again (its recorded command, with WSA_RESUME_OF naming the \
            run), in order, without waiting for them; dryRun true only lists what it would run.
            """, signatures: [.init(.array), .init(.array, .boolean)], access: curators) { _, params in
            try await faulting {
                guard let resumer else {
                    throw LoadServerError(.invalidArgument, "resume is not configured on this server")
                }
                let dryRun: Bool = try params.parameter(0, as: Bool?.self) ?? false
                let runs = try await service.resumableRuns()
                return .array(resumer.resume(runs, dryRun: dryRun).map { outcome in
                    .struct(["cuEventID": .int(outcome.cuEventID), "command": .array(outcome.command.map { .string($0) }),
                             "started": .bool(outcome.pid != nil), "pid": .int(Int(outcome.pid ?? 0)),
                             "message": .string(outcome.message)])
                })
            }
        }
        registry.register("reserveIDs", help: """
            reserveIDs(token, table, count) -> array of int: reserves count ids of the identity \
            column of table (Multiframe, TransferLog or Quarantine) for rows a run writes in \
            transaction files that refer to each other. Ids are never handed out twice.
            """, signature: .init(.array, .any, .string, .int), access: curators) { _, params in
            try await faulting {
                let ids = try await service.reserveIDs(token: try token(params, 0), table: try params.parameter(1),
                                                       count: try params.parameter(2))
                return .array(ids.map { .int(Int($0)) })
            }
        }

        registry.register("deprecate", help: """
            deprecate(token, cuEventID, table, ids, code) -> int: marks rows of table (TransferLog \
            by transferID, or Multiframe by multiframeID with their MultiframeDetector rows) \
            deprecated with code (1: superseded by a newer version) within the run; visible when \
            the run commits. Returns the number of rows of table changed.
            """, signature: .init(.int, .any, .int, .string, .array, .int), access: curators) { _, params in
            try await faulting {
                guard let list = params.count > 3 ? params[3].arrayValue : nil else {
                    throw LoadServerError(.invalidArgument, "ids should be an array of ints")
                }
                let ids = try list.map { value -> Int64 in
                    guard let n = value.intValue else { throw LoadServerError(.invalidArgument, "ids should be ints") }
                    return Int64(n)
                }
                return .int(try await service.deprecate(token: try token(params, 0), cuEventID: try params.parameter(1),
                                                        table: try params.parameter(2), ids: ids,
                                                        code: try params.parameter(4)))
            }
        }
        return registry
    }

    // MARK: Helpers

    /// Runs `body`, turning a ``LoadServerError`` into its fault.
    static func faulting(_ body: () async throws -> XMLRPCValue) async throws -> XMLRPCValue {
        do {
            return try await body()
        } catch let error as LoadServerError {
            throw error.fault
        }
    }

    static func token(_ params: [XMLRPCValue], _ index: Int) throws -> FencingToken {
        guard index < params.count else { throw LoadServerError(.invalidArgument, "the fencing token is missing") }
        switch params[index] {
        case .int(let v) where v >= 0: return FencingToken(v)
        case .string(let s): if let v = FencingToken(s), v >= 0 { return v }
        default: break
        }
        throw LoadServerError(.invalidArgument, "parameter \(index + 1) should be a fencing token (a non-negative int)")
    }

    static func tokenValue(_ token: FencingToken) -> XMLRPCValue { .int(Int(token)) }

    static func seconds(_ params: [XMLRPCValue], _ index: Int, _ name: String) throws -> Duration? {
        guard index < params.count, !params[index].isNil else { return nil }
        guard let value = params[index].doubleValue, value.isFinite, value >= 0 else {
            throw LoadServerError(.invalidArgument, "\(name) should be a number of seconds ≥ 0")
        }
        return .seconds(value)
    }

    static func encode(_ status: LeaseStatus) -> XMLRPCValue {
        var m: [String: XMLRPCValue] = ["state": .string(status.state.rawValue), "token": tokenValue(status.token),
                                        "databaseTime": .string(isoTime(status.databaseTime))]
        if let v = status.holder { m["holder"] = .string(v) }
        if let v = status.grantedAt { m["grantedAt"] = .string(isoTime(v)) }
        if let v = status.heartbeatAt { m["heartbeatAt"] = .string(isoTime(v)) }
        if let v = status.expiresAt { m["expiresAt"] = .string(isoTime(v)) }
        if let v = status.releasedAt { m["releasedAt"] = .string(isoTime(v)) }
        if let v = status.ttl { m["ttlSeconds"] = .double(v.secondsValue) }
        return .struct(m)
    }

    static func encode(_ run: CurationRun) -> XMLRPCValue {
        var m: [String: XMLRPCValue] = [
            "cuEventID": .int(run.cuEventID), "cu": .string(run.cuName), "programme": .string(run.programme),
            "status": .string(run.status), "startedAt": .string(isoTime(run.startedAt)),
            "host": .string(run.host), "version": .string(run.version), "holder": .string(run.holder),
            "token": tokenValue(run.token), "command": .array(run.command.map { .string($0) }),
            "errorText": .string(run.errorText),
        ]
        if let v = run.endedAt { m["endedAt"] = .string(isoTime(v)) }
        if let v = run.resumeOf { m["resumeOf"] = .int(v) }
        return .struct(m)
    }
}
