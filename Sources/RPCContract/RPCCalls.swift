public import Foundation
public import XMLRPC
import SystemSupport

/// The methods of dbrpcserver (``RPCMethod``), each with its typed parameters and result.
public enum RPC {
    // MARK: Server and lease

    public enum ServerInfo: RPCCall {
        public static let method = RPCMethod.serverInfo
        public static let help = """
            serverInfo() -> struct: the server's version, start time, spool, default lease TTL \
            and the runs open now.
            """
        public static let signatures = [XMLRPCMethodSignature(.struct)]

        public struct Result: Sendable, Hashable {
            public var version: String
            public var startedAt: Date
            public var spool: String
            public var defaultLeaseSeconds: Double
            public var openRuns: [OpenRun]

            public init(version: String, startedAt: Date, spool: String, defaultLeaseSeconds: Double,
                        openRuns: [OpenRun]) {
                self.version = version
                self.startedAt = startedAt
                self.spool = spool
                self.defaultLeaseSeconds = defaultLeaseSeconds
                self.openRuns = openRuns
            }
        }

        /// A run open on the server now.
        public struct OpenRun: Sendable, Hashable {
            public var cuEventID: Int
            public var token: FencingToken
            public var holder: String
            public var since: Date

            public init(cuEventID: Int, token: FencingToken, holder: String, since: Date) {
                self.cuEventID = cuEventID
                self.token = token
                self.holder = holder
                self.since = since
            }
        }

        public static func encode(_ params: Void) -> [XMLRPCValue] { [] }
        public static func decode(params: [XMLRPCValue]) throws {}

        public static func encode(result: Result) -> XMLRPCValue {
            .struct([
                "version": .string(result.version), "startedAt": .string(WireTime.format(result.startedAt)),
                "spool": .string(result.spool), "defaultLeaseSeconds": .double(result.defaultLeaseSeconds),
                "openRuns": .array(result.openRuns.map {
                    .struct(["cuEventID": .int($0.cuEventID), "token": $0.token.wireValue,
                             "holder": .string($0.holder), "since": .string(WireTime.format($0.since))])
                }),
            ])
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Result {
            let m = try AnswerReader(method, result)
            guard let runs = result["openRuns"]?.arrayValue else { throw MalformedAnswer(method, "no openRuns") }
            var open: [OpenRun] = []
            for run in runs {
                let r = try AnswerReader(method, run)
                open.append(OpenRun(cuEventID: try r.int("cuEventID"), token: FencingToken(try r.int("token")),
                                    holder: try r.string("holder"), since: try r.time("since")))
            }
            return Result(version: try m.string("version"), startedAt: try m.time("startedAt"), spool: try m.string("spool"),
                          defaultLeaseSeconds: try m.double("defaultLeaseSeconds"), openRuns: open)
        }
    }

    public enum LeaseStatusCall: RPCCall {
        public static let method = RPCMethod.leaseStatus
        public static let help = """
            leaseStatus() -> struct {state: free|held|expired, holder, token, grantedAt, \
            heartbeatAt, expiresAt, releasedAt, ttlSeconds, databaseTime}: the write lease as it \
            stands (times ISO 8601 UTC; absent when not set).
            """
        public static let signatures = [XMLRPCMethodSignature(.struct)]

        public static func encode(_ params: Void) -> [XMLRPCValue] { [] }
        public static func decode(params: [XMLRPCValue]) throws {}

        public static func encode(result status: LeaseStatus) -> XMLRPCValue {
            var m: [String: XMLRPCValue] = ["state": .string(status.state.rawValue), "token": status.token.wireValue,
                                            "databaseTime": .string(WireTime.format(status.databaseTime))]
            if let v = status.holder { m["holder"] = .string(v) }
            if let v = status.grantedAt { m["grantedAt"] = .string(WireTime.format(v)) }
            if let v = status.heartbeatAt { m["heartbeatAt"] = .string(WireTime.format(v)) }
            if let v = status.expiresAt { m["expiresAt"] = .string(WireTime.format(v)) }
            if let v = status.releasedAt { m["releasedAt"] = .string(WireTime.format(v)) }
            if let v = status.ttl { m["ttlSeconds"] = .double(v.secondsValue) }
            return .struct(m)
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> LeaseStatus {
            let m = try AnswerReader(method, result)
            guard let state = LeaseStatus.State(rawValue: try m.string("state")) else {
                throw MalformedAnswer(method, "state is not free, held or expired")
            }
            let holder = result["holder"]?.stringValue
            let ttl = result["ttlSeconds"]?.doubleValue.map { Duration.seconds($0) }
            return LeaseStatus(state: state, holder: holder, token: FencingToken(try m.int("token")),
                               grantedAt: try m.optionalTime("grantedAt"), heartbeatAt: try m.optionalTime("heartbeatAt"),
                               expiresAt: try m.optionalTime("expiresAt"), releasedAt: try m.optionalTime("releasedAt"),
                               ttl: ttl, databaseTime: try m.time("databaseTime"))
        }
    }

    public enum WriteLock: RPCCall {
        public static let method = RPCMethod.writeLock
        public static let help = """
            writeLock(holder [, ttlSeconds [, waitSeconds]]) -> struct {holder, token, grantedAt, \
            expiresAt, validSeconds, waitedSeconds}: grants the write lease to holder (unique per process, e.g. \
            cu4@host:pid) with a fencing token that only grows. The lease lives ttlSeconds \
            (default: the server's) unless renewed by heartbeat. When another holder has it, \
            waits up to waitSeconds (default 0) and then fails with fault 2001 naming the holder, \
            since and until when.
            """
        public static let signatures = [XMLRPCMethodSignature(.struct, .string), .init(.struct, .string, .any),
                                        .init(.struct, .string, .any, .double)]

        public struct Params: Sendable, Hashable {
            public var holder: String
            public var ttl: Duration?
            public var wait: Duration

            public init(holder: String, ttl: Duration?, wait: Duration) {
                self.holder = holder
                self.ttl = ttl
                self.wait = wait
            }
        }

        public static func encode(_ p: Params) -> [XMLRPCValue] {
            [.string(p.holder), p.ttl.map { .double($0.secondsValue) } ?? .nil, .double(p.wait.secondsValue)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> Params {
            Params(holder: try params.parameter(0), ttl: try ParamReader.seconds(params, 1, "ttlSeconds"),
                   wait: try ParamReader.seconds(params, 2, "waitSeconds") ?? .zero)
        }

        public static func encode(result grant: LeaseGrant) -> XMLRPCValue {
            .struct(["holder": .string(grant.holder), "token": grant.token.wireValue,
                     "grantedAt": .string(WireTime.format(grant.grantedAt)),
                     "expiresAt": .string(WireTime.format(grant.expiresAt)),
                     "validSeconds": .double(grant.validFor.secondsValue),
                     "waitedSeconds": .double(grant.waited.secondsValue)])
        }

        /// The grant, its database time taken as `expiresAt − validSeconds`.
        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> LeaseGrant {
            let m = try AnswerReader(method, result)
            let expires = try m.time("expiresAt"), valid = try m.double("validSeconds")
            return LeaseGrant(holder: try m.string("holder"), token: FencingToken(try m.int("token")),
                              grantedAt: try m.time("grantedAt"), expiresAt: expires,
                              databaseTime: expires.addingTimeInterval(-max(0, valid)),
                              waited: .seconds(max(0, try m.double("waitedSeconds"))))
        }
    }

    public enum Heartbeat: RPCCall {
        public static let method = RPCMethod.heartbeat
        public static let help = """
            heartbeat(holder, token [, ttlSeconds]) -> struct {expiresAt, validSeconds}: keeps \
            the lease alive. Faults: 2002 stale token, 2003 expired (acquire again), 2004 released.
            """
        public static let signatures = [XMLRPCMethodSignature(.struct, .string, .any), .init(.struct, .string, .any, .any)]

        public struct Params: Sendable, Hashable {
            public var holder: String
            public var token: FencingToken
            public var ttl: Duration?

            public init(holder: String, token: FencingToken, ttl: Duration? = nil) {
                self.holder = holder
                self.token = token
                self.ttl = ttl
            }
        }

        public static func encode(_ p: Params) -> [XMLRPCValue] {
            var params: [XMLRPCValue] = [.string(p.holder), p.token.wireValue]
            if let ttl = p.ttl { params.append(.double(ttl.secondsValue)) }
            return params
        }

        public static func decode(params: [XMLRPCValue]) throws -> Params {
            Params(holder: try params.parameter(0), token: try ParamReader.token(params, 1),
                   ttl: try ParamReader.seconds(params, 2, "ttlSeconds"))
        }

        public static func encode(result renewal: LeaseRenewal) -> XMLRPCValue {
            .struct(["expiresAt": .string(WireTime.format(renewal.expiresAt)),
                     "validSeconds": .double(renewal.validFor.secondsValue)])
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> LeaseRenewal {
            let m = try AnswerReader(method, result)
            let expires = try m.time("expiresAt"), valid = try m.double("validSeconds")
            return LeaseRenewal(expiresAt: expires, databaseTime: expires.addingTimeInterval(-max(0, valid)))
        }
    }

    public enum WriteUnlock: RPCCall {
        public static let method = RPCMethod.writeUnlock
        public static let help = """
            writeUnlock(holder, token) -> boolean: ends the lease (true; false when it was \
            already released). Runs still open under it are rolled back and recorded as failed.
            """
        public static let signatures = [XMLRPCMethodSignature(.boolean, .string, .any)]

        public static func encode(_ p: (holder: String, token: FencingToken)) -> [XMLRPCValue] {
            [.string(p.holder), p.token.wireValue]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (holder: String, token: FencingToken) {
            (try params.parameter(0), try ParamReader.token(params, 1))
        }

        public static func encode(result: Bool) -> XMLRPCValue { .bool(result) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Bool {
            guard let released = result.boolValue else { throw MalformedAnswer(method, "expected a boolean") }
            return released
        }
    }

    // MARK: Steps and loads

    public enum BeginStep: RPCCall {
        public static let method = RPCMethod.beginStep
        public static let help = """
            beginStep(token, run) -> int cuEventID: records a run of a CU as started and opens \
            its transaction. run is a struct {cu: int 1-20 or "CU4", programme: "LAS" (name, \
            PROJECT or id; optional), command: [argv...], host, version, resumeOf: int (optional)}. \
            Every write of the run carries its cuEventID; they become visible together when \
            updateCurationLog records success, and never otherwise.
            """
        public static let signatures = [XMLRPCMethodSignature(.int, .any, .struct)]

        public static func encode(_ p: (token: FencingToken, run: StepRequest)) -> [XMLRPCValue] {
            var run: [String: XMLRPCValue] = [
                "cu": .int(p.run.cuID), "command": .array(p.run.command.map { .string($0) }),
                "host": .string(p.run.host), "version": .string(p.run.version),
            ]
            if let programme = p.run.programme { run["programme"] = .string(programme) }
            if let resumeOf = p.run.resumeOf { run["resumeOf"] = .int(resumeOf) }
            return [p.token.wireValue, .struct(run)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (token: FencingToken, run: StepRequest) {
            let token = try ParamReader.token(params, 0)
            let run = params.count > 1 ? params[1] : .nil
            let cuValue = run.structValue?["cu"] ?? .nil
            let cuID: Int
            if let n = cuValue.intValue {
                cuID = n
            } else if let s = cuValue.stringValue, s.uppercased().hasPrefix("CU"), let n = Int(s.dropFirst(2)) {
                cuID = n
            } else {
                throw ParamReader.invalid("run.cu should be 1 to 20 or \"CU1\" to \"CU20\"")
            }
            let programme: XMLRPCValue = (try run.member("programme", as: XMLRPCValue?.self)) ?? .nil
            let request = StepRequest(cuID: cuID, programme: programme.intValue.map(String.init) ?? programme.stringValue,
                                      command: try run.member("command", as: [String]?.self) ?? [],
                                      host: try run.member("host", as: String?.self) ?? "unknown",
                                      version: try run.member("version", as: String?.self) ?? "unknown",
                                      resumeOf: try run.member("resumeOf", as: Int?.self))
            return (token, request)
        }

        public static func encode(result cuEventID: Int) -> XMLRPCValue { .int(cuEventID) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Int {
            guard let id = result.intValue, id > 0 else { throw MalformedAnswer(method, "expected a positive cuEventID") }
            return id
        }
    }

    public enum UpdateCurationLog: RPCCall {
        public static let method = RPCMethod.updateCurationLog
        public static let help = """
            updateCurationLog(token, cuEventID, status, message) -> struct {cuEventID, status, \
            loads, rows}: ends a run. status "succeeded" commits its writes together with the \
            success record (fault 2009 if the commit fails: nothing is visible); "failed" rolls \
            them back and records message as the run's error.
            """
        public static let signatures = [XMLRPCMethodSignature(.struct, .any, .int, .string, .string)]

        /// How a step ended.
        public enum Status: String, Sendable {
            case succeeded, failed
        }

        public struct Params: Sendable, Hashable {
            public var token: FencingToken
            public var cuEventID: Int
            public var status: Status
            public var message: String

            public init(token: FencingToken, cuEventID: Int, status: Status, message: String) {
                self.token = token
                self.cuEventID = cuEventID
                self.status = status
                self.message = message
            }
        }

        public static func encode(_ p: Params) -> [XMLRPCValue] {
            [p.token.wireValue, .int(p.cuEventID), .string(p.status.rawValue), .string(p.message)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> Params {
            let text: String = try params.parameter(2)
            guard let status = Status(rawValue: text) else {
                throw ParamReader.invalid("status should be \"succeeded\" or \"failed\", not \"\(text.prefix(40))\"")
            }
            return Params(token: try ParamReader.token(params, 0), cuEventID: try params.parameter(1), status: status,
                          message: try params.parameter(3))
        }

        public static func encode(result o: StepOutcome) -> XMLRPCValue {
            .struct(["cuEventID": .int(o.cuEventID), "status": .string(o.status), "loads": .int(o.loads), "rows": .int(o.rows)])
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> StepOutcome {
            let m = try AnswerReader(method, result)
            return StepOutcome(cuEventID: try m.int("cuEventID"), status: try m.string("status"),
                               loads: try m.int("loads"), rows: try m.int("rows"))
        }
    }

    public enum LoadTransactionData: RPCCall {
        public static let method = RPCMethod.loadTransactionData
        public static let help = """
            loadTransactionData(token, cuEventID, checksum) -> struct {checksum, table, rows, \
            alreadyLoaded, cuEventID, seconds}: loads the transaction file named by its SHA-256 \
            from the spool into its table within the run, exactly once (a file loaded before is \
            not copied again: alreadyLoaded is true and the first result is returned). Faults: \
            2007 not in the spool (upload it), 2008 refused (checksum, size, rows, columns or \
            table do not match; nothing written).
            """
        public static let signatures = [XMLRPCMethodSignature(.struct, .any, .int, .string)]

        public static func encode(_ p: (token: FencingToken, cuEventID: Int, checksum: String)) -> [XMLRPCValue] {
            [p.token.wireValue, .int(p.cuEventID), .string(p.checksum)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (token: FencingToken, cuEventID: Int, checksum: String) {
            (try ParamReader.token(params, 0), try params.parameter(1), try params.parameter(2))
        }

        public static func encode(result r: LoadResult) -> XMLRPCValue {
            .struct(["checksum": .string(r.checksum), "table": .string(r.table), "rows": .int(r.rows),
                     "alreadyLoaded": .bool(r.alreadyLoaded), "cuEventID": .int(r.cuEventID), "seconds": .double(r.seconds)])
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> LoadResult {
            let m = try AnswerReader(method, result)
            return LoadResult(checksum: try m.string("checksum"), table: try m.string("table"), rows: try m.int("rows"),
                              alreadyLoaded: try m.bool("alreadyLoaded"), cuEventID: try m.int("cuEventID"),
                              seconds: try m.double("seconds"))
        }
    }

    public enum UploadTransactionFile: RPCCall {
        public static let method = RPCMethod.uploadTransactionFile
        public static let help = """
            uploadTransactionFile(manifest, data) -> string checksum: stores a transaction file \
            (manifest: its JSON text; data: the binary COPY bytes as base64) in the server's \
            spool after checking it. Large files go faster as HTTP PUT /spool/<checksum>.
            """
        public static let signatures = [XMLRPCMethodSignature(.string, .string, .base64)]

        public static func encode(_ p: (manifest: String, data: [UInt8])) -> [XMLRPCValue] {
            [.string(p.manifest), .base64(p.data)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (manifest: String, data: [UInt8]) {
            guard params.count > 1, let bytes = params[1].bytesValue else {
                throw ParamReader.invalid("data should be the transaction file's bytes as base64")
            }
            return (try params.parameter(0), bytes)
        }

        public static func encode(result checksum: String) -> XMLRPCValue { .string(checksum) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> String {
            guard let checksum = result.stringValue else { throw MalformedAnswer(method, "expected the checksum") }
            return checksum
        }
    }

    public enum ReserveIDs: RPCCall {
        public static let method = RPCMethod.reserveIDs
        public static let help = """
            reserveIDs(token, table, count) -> array of int: reserves count ids of the identity \
            column of table (Multiframe, TransferLog or Quarantine) for rows a run writes in \
            transaction files that refer to each other. Ids are never handed out twice.
            """
        public static let signatures = [XMLRPCMethodSignature(.array, .any, .string, .int)]

        public static func encode(_ p: (token: FencingToken, table: String, count: Int)) -> [XMLRPCValue] {
            [p.token.wireValue, .string(p.table), .int(p.count)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (token: FencingToken, table: String, count: Int) {
            (try ParamReader.token(params, 0), try params.parameter(1), try params.parameter(2))
        }

        public static func encode(result ids: [Int64]) -> XMLRPCValue { .array(ids.map { .int(Int($0)) }) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> [Int64] {
            guard let list = result.arrayValue else { throw MalformedAnswer(method, "expected an array of ids") }
            var ids: [Int64] = []
            for item in list {
                guard let id = item.intValue, id > 0 else { throw MalformedAnswer(method, "an id is not a positive int") }
                ids.append(Int64(id))
            }
            return ids
        }
    }

    public enum Deprecate: RPCCall {
        public static let method = RPCMethod.deprecate
        public static let help = """
            deprecate(token, cuEventID, table, ids, code) -> int: marks rows of table (TransferLog \
            by transferID, or Multiframe by multiframeID with their MultiframeDetector rows) \
            deprecated with code (1: superseded by a newer version) within the run; visible when \
            the run commits. Returns the number of rows of table changed.
            """
        public static let signatures = [XMLRPCMethodSignature(.int, .any, .int, .string, .array, .int)]

        public struct Params: Sendable, Hashable {
            public var token: FencingToken
            public var cuEventID: Int
            public var table: String
            public var ids: [Int64]
            public var code: Int

            public init(token: FencingToken, cuEventID: Int, table: String, ids: [Int64], code: Int) {
                self.token = token
                self.cuEventID = cuEventID
                self.table = table
                self.ids = ids
                self.code = code
            }
        }

        public static func encode(_ p: Params) -> [XMLRPCValue] {
            [p.token.wireValue, .int(p.cuEventID), .string(p.table), .array(p.ids.map { .int(Int($0)) }), .int(p.code)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> Params {
            guard let list = params.count > 3 ? params[3].arrayValue : nil else {
                throw ParamReader.invalid("ids should be an array of ints")
            }
            let ids = try list.map { value -> Int64 in
                guard let n = value.intValue else { throw ParamReader.invalid("ids should be ints") }
                return Int64(n)
            }
            return Params(token: try ParamReader.token(params, 0), cuEventID: try params.parameter(1),
                          table: try params.parameter(2), ids: ids, code: try params.parameter(4))
        }

        public static func encode(result changed: Int) -> XMLRPCValue { .int(changed) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Int {
            guard let n = result.intValue, n >= 0 else { throw MalformedAnswer(method, "expected a row count") }
            return n
        }
    }

    public enum CallProcedure: RPCCall {
        public static let method = RPCMethod.callProcedure
        public static let help = """
            callProcedure(token, cuEventID, name, arguments) -> int: runs curation.<name>(arguments…) \
            inside the run's transaction and returns the bigint it returns (a count; nil is 0; \
            beyond 32 bits as i8). name is a function of schema curation (lower-case letters, \
            digits and _); arguments is an array of at most 16, each an int (bigint), a double \
            (double precision), a string (text, ≤ 10000 characters) or an array of ints \
            (bigint[], ≤ 1000000). Its writes are visible when the run commits; a procedure that \
            fails (its RAISE message is the fault's text) leaves the run as it was, able to go on. \
            Faults: 2005 no such function or bad arguments, 2011 the procedure failed, 2009 run \
            rolled back.
            """
        public static let signatures = [XMLRPCMethodSignature(.int, .any, .int, .string, .array)]

        public struct Params: Sendable, Hashable {
            public var token: FencingToken
            public var cuEventID: Int
            public var name: String
            public var arguments: [ProcedureArgument]

            public init(token: FencingToken, cuEventID: Int, name: String, arguments: [ProcedureArgument]) {
                self.token = token
                self.cuEventID = cuEventID
                self.name = name
                self.arguments = arguments
            }
        }

        public static func encode(_ p: Params) -> [XMLRPCValue] {
            [p.token.wireValue, .int(p.cuEventID), .string(p.name), .array(p.arguments.map(\.wireValue))]
        }

        public static func decode(params: [XMLRPCValue]) throws -> Params {
            guard let list = params.count > 3 ? params[3].arrayValue : nil else {
                throw ParamReader.invalid("arguments should be an array")
            }
            var arguments: [ProcedureArgument] = []
            for (index, value) in list.enumerated() {
                guard let argument = ProcedureArgument(wireValue: value) else {
                    throw ParamReader.invalid("argument \(index + 1) should be an int, a double, a string or an array of ints, not \(value.type)")
                }
                arguments.append(argument)
            }
            return Params(token: try ParamReader.token(params, 0), cuEventID: try params.parameter(1),
                          name: try params.parameter(2), arguments: arguments)
        }

        public static func encode(result n: Int64) -> XMLRPCValue { .int(Int(n)) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> Int64 {
            guard let n = result.intValue else { throw MalformedAnswer(method, "expected an int") }
            return Int64(n)
        }
    }

    // MARK: Runs

    public enum ListRuns: RPCCall {
        public static let method = RPCMethod.listRuns
        public static let help = """
            listRuns([status [, limit]]) -> array of runs, newest first: all, or those with status \
            started|succeeded|failed (limit default 100).
            """
        public static let signatures = [XMLRPCMethodSignature(.array), .init(.array, .string), .init(.array, .string, .int)]

        public static func encode(_ p: (status: String?, limit: Int)) -> [XMLRPCValue] {
            [.string(p.status ?? "all"), .int(p.limit)]
        }

        public static func decode(params: [XMLRPCValue]) throws -> (status: String?, limit: Int) {
            var status: String? = try params.parameter(0)
            if status == "" || status == "all" { status = nil }
            if let status, !["started", "succeeded", "failed"].contains(status) {
                throw ParamReader.invalid("status should be started, succeeded, failed or all")
            }
            return (status, try params.parameter(1, as: Int?.self) ?? 100)
        }

        public static func encode(result runs: [CurationRun]) -> XMLRPCValue { .array(runs.map(CurationRun.encode)) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> [CurationRun] {
            try CurationRun.decodeList(result, method: method)
        }
    }

    public enum FailedRuns: RPCCall {
        public static let method = RPCMethod.failedRuns
        public static let help = """
            failedRuns() -> array of the failed runs not yet made good by a resumed run, oldest \
            first: what resume would run again.
            """
        public static let signatures = [XMLRPCMethodSignature(.array)]

        public static func encode(_ params: Void) -> [XMLRPCValue] { [] }
        public static func decode(params: [XMLRPCValue]) throws {}

        public static func encode(result runs: [CurationRun]) -> XMLRPCValue { .array(runs.map(CurationRun.encode)) }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> [CurationRun] {
            try CurationRun.decodeList(result, method: method)
        }
    }

    public enum Resume: RPCCall {
        public static let method = RPCMethod.resume
        public static let help = """
            resume([dryRun]) -> array of struct {cuEventID, command, started, pid, message}: \
            runs every failed run again (its recorded command, with WSA_RESUME_OF naming the \
            run), in order, without waiting for them; dryRun true only lists what it would run.
            """
        public static let signatures = [XMLRPCMethodSignature(.array), .init(.array, .boolean)]

        /// What resuming one run did.
        public struct Started: Sendable, Hashable {
            public var cuEventID: Int
            public var command: [String]
            /// The started process, nil when not started (dry run or refused).
            public var pid: Int32?
            public var message: String

            public init(cuEventID: Int, command: [String], pid: Int32?, message: String) {
                self.cuEventID = cuEventID
                self.command = command
                self.pid = pid
                self.message = message
            }
        }

        public static func encode(_ dryRun: Bool) -> [XMLRPCValue] { [.bool(dryRun)] }

        public static func decode(params: [XMLRPCValue]) throws -> Bool { try params.parameter(0, as: Bool?.self) ?? false }

        public static func encode(result: [Started]) -> XMLRPCValue {
            .array(result.map {
                .struct(["cuEventID": .int($0.cuEventID), "command": .array($0.command.map { .string($0) }),
                         "started": .bool($0.pid != nil), "pid": .int(Int($0.pid ?? 0)), "message": .string($0.message)])
            })
        }

        public static func decode(result: XMLRPCValue) throws(MalformedAnswer) -> [Started] {
            guard let list = result.arrayValue else { throw MalformedAnswer(method, "expected an array") }
            var started: [Started] = []
            for item in list {
                let m = try AnswerReader(method, item)
                let pid = try m.int("pid")
                started.append(Started(cuEventID: try m.int("cuEventID"), command: try m.strings("command"),
                                       pid: try m.bool("started") ? Int32(clamping: pid) : nil, message: try m.string("message")))
            }
            return started
        }
    }
}

extension CurationRun {
    /// A run as it crosses the wire.
    static func encode(_ run: CurationRun) -> XMLRPCValue {
        var m: [String: XMLRPCValue] = [
            "cuEventID": .int(run.cuEventID), "cuID": .int(run.cuID), "cu": .string(run.cuName),
            "programme": .string(run.programme),
            "status": .string(run.status), "startedAt": .string(WireTime.format(run.startedAt)),
            "host": .string(run.host), "version": .string(run.version), "holder": .string(run.holder),
            "token": run.token.wireValue, "command": .array(run.command.map { .string($0) }),
            "errorText": .string(run.errorText),
        ]
        if let v = run.endedAt { m["endedAt"] = .string(WireTime.format(v)) }
        if let v = run.resumeOf { m["resumeOf"] = .int(v) }
        return .struct(m)
    }

    static func decodeList(_ value: XMLRPCValue, method: RPCMethod) throws(MalformedAnswer) -> [CurationRun] {
        guard let list = value.arrayValue else { throw MalformedAnswer(method, "expected an array of runs") }
        var runs: [CurationRun] = []
        for item in list {
            let m = try AnswerReader(method, item)
            runs.append(CurationRun(cuEventID: try m.int("cuEventID"), cuID: try m.int("cuID"), cuName: try m.string("cu"),
                                    programme: try m.string("programme"), status: try m.string("status"),
                                    startedAt: try m.time("startedAt"), endedAt: try m.optionalTime("endedAt"),
                                    host: try m.string("host"), version: try m.string("version"),
                                    holder: try m.string("holder"), token: Int64(try m.int("token")),
                                    command: try m.strings("command"), errorText: try m.string("errorText"),
                                    resumeOf: try m.optionalInt("resumeOf")))
        }
        return runs
    }
}
