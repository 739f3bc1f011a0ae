import Foundation
import Logging
import Postgres
public import RPCContract
import SystemSupport

extension CurationService {
    /// The most arguments a curation procedure call may pass.
    static let maximumProcedureArguments = 16
    /// The longest text argument, in characters.
    static let maximumProcedureText = 10_000
    /// The most elements of an int array argument.
    static let maximumProcedureArray = 1_000_000

    /// Whether `name` can name a function of schema `curation`: `^[a-z][a-z0-9_]{0,62}$`.
    static func isProcedureName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, (1...63).contains(bytes.count), (97...122).contains(first) else { return false }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }

    /// Runs the SQL function `curation.<name>(arguments…)` within run `cuEventID`, so a CU can
    /// do whole-table work on the load server: its writes are visible when the run commits,
    /// never if it rolls back. Returns the bigint the function returns (NULL is 0).
    ///
    /// `name` must name a function of schema `curation` that returns an integer; otherwise, or
    /// when the arguments are too many or too long, ``LoadServerError/Code/invalidArgument`` and
    /// nothing runs. The call runs in a savepoint: a function that fails (its own RAISE message
    /// is the error's text, as `curation.<name>: …`) leaves the run as it was, able to go on.
    public func callProcedure(token: FencingToken, cuEventID: Int, name: String,
                              arguments: [ProcedureArgument]) async throws -> Int64 {
        guard Self.isProcedureName(name) else {
            throw LoadServerError(.invalidArgument,
                                  "\"\(name.prefix(80))\" is not a curation function name (a lower-case letter, then at most 62 lower-case letters, digits or _)")
        }
        try Self.checkProcedureArguments(name, arguments)
        return try await threads.run {
            try self.callProcedureBlocking(token: token, cuEventID: cuEventID, name: name, arguments: arguments)
        }
    }

    private func callProcedureBlocking(token: FencingToken, cuEventID: Int, name: String,
                                       arguments: [ProcedureArgument]) throws -> Int64 {
        let started = ContinuousClock.now
        let step = try step(cuEventID, token: token)
        step.gate.lock()
        defer { step.gate.unlock() }
        if let reason = step.aborted {
            throw LoadServerError(.stepRolledBack, "run \(cuEventID) was rolled back: \(reason)")
        }
        let call = Self.procedureCall(name, arguments)
        let result: Int64
        do {
            result = try step.connection.transaction { tx -> Int64 in
                try WriteLease.checkFence(token: token, on: tx)
                let takes = try Self.checkProcedureExists(name, on: tx)
                let rows: PostgresRows
                do {
                    rows = try tx.query(call.sql, call.params)
                } catch let error as PostgresError where error.sqlState == "42883" && error.context == nil {
                    // Our own call found no function of that name taking these types (one the
                    // function calls in its body would come with a context).
                    throw LoadServerError(.invalidArgument,
                                          "curation.\(name) takes \(takes.joined(separator: " or ")), not (\(arguments.map(\.sqlType).joined(separator: ", ")))",
                                          sqlState: error.sqlState, detail: error.debugDescription)
                }
                guard let row = rows.first else { return 0 }
                return try row.decode(Int64?.self, "n") ?? 0
            }
        } catch let error as PostgresError {
            if let lease = LoadServerError.lease(from: error) { throw lease }
            if step.aborted != nil || error.code == .connectionClosed || error.code == .connectionFailed {
                throw LoadServerError(.stepRolledBack,
                                      "run \(cuEventID) was rolled back during curation.\(name): \(step.aborted ?? error.message)",
                                      sqlState: error.sqlState, detail: error.debugDescription)
            }
            var text = "curation.\(name): \(error.message)"
            if let sqlState = error.sqlState { text += " (SQLSTATE \(sqlState))" }
            throw LoadServerError(error.sqlState == "22023" ? .invalidArgument : .databaseError, text,
                                  sqlState: error.sqlState, detail: error.debugDescription)
        }
        let seconds = (ContinuousClock.now - started).secondsValue
        logger.info("run \(cuEventID): curation.\(name)(\(Self.summary(arguments))) returned \(result) in \(String(format: "%.3f", seconds)) s")
        return result
    }

    /// Refuses too many arguments, too long a text or too long an array.
    static func checkProcedureArguments(_ name: String, _ arguments: [ProcedureArgument]) throws {
        guard arguments.count <= maximumProcedureArguments else {
            throw LoadServerError(.invalidArgument,
                                  "curation.\(name): \(arguments.count) arguments, at most \(maximumProcedureArguments)")
        }
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case .text(let text) where text.unicodeScalars.count > maximumProcedureText:
                throw LoadServerError(.invalidArgument,
                                      "curation.\(name): argument \(index + 1) is \(text.unicodeScalars.count) characters of text, at most \(maximumProcedureText)")
            case .intArray(let list) where list.count > maximumProcedureArray:
                throw LoadServerError(.invalidArgument,
                                      "curation.\(name): argument \(index + 1) is an array of \(list.count) ints, at most \(maximumProcedureArray)")
            default:
                break
            }
        }
    }

    /// Refuses a name that is no function of schema `curation` returning an integer, naming
    /// the ones there are. Returns the argument lists the functions of that name take.
    private static func checkProcedureExists(_ name: String, on db: PostgresConnection) throws -> [String] {
        let functions = try db.query("""
            SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
                   (p.prorettype IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype)
                    AND NOT p.proretset)::int AS returnsint,
                   format_type(p.prorettype, NULL) AS returns
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'curation' AND p.prokind = 'f'
            ORDER BY 1, 2
            """, []).map {
                (name: try $0.decode(String.self, "name"), arguments: try $0.decode(String.self, "arguments"),
                 returnsInt: try $0.decode(Int.self, "returnsint") == 1, returns: try $0.decode(String.self, "returns"))
            }
        let named = functions.filter { $0.name == name }
        guard !named.isEmpty else {
            let known = Array(Set(functions.filter(\.returnsInt).map(\.name))).sorted()
            throw LoadServerError(.invalidArgument,
                                  "no function curation.\(name) in the database (the curation functions that return a count: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        guard named.contains(where: \.returnsInt) else {
            throw LoadServerError(.invalidArgument,
                                  "curation.\(name) returns \(named[0].returns), not bigint: it is not a curation procedure")
        }
        return named.map { "(\($0.arguments))" }
    }

    /// The statement that calls `curation.<name>` with one `$n` parameter per argument, each cast
    /// to its SQL type (an int array is sent as the text of a `bigint[]`), and its parameters.
    static func procedureCall(_ name: String, _ arguments: [ProcedureArgument])
        -> (sql: String, params: [PostgresValue?])
    {
        var casts: [String] = []
        var params: [PostgresValue?] = []
        for (index, argument) in arguments.enumerated() {
            casts.append("$\(index + 1)::\(argument.sqlType)")
            switch argument {
            case .int(let v): params.append(.int64(v))
            case .double(let v): params.append(.float64(v))
            case .text(let v): params.append(.text(v))
            case .intArray(let list): params.append(.text("{" + list.map(String.init).joined(separator: ",") + "}"))
            }
        }
        return ("SELECT curation.\"\(name)\"(\(casts.joined(separator: ", "))) AS n", params)
    }

    /// The arguments as the log shows them: numbers, the start of texts, the length of arrays.
    static func summary(_ arguments: [ProcedureArgument]) -> String {
        arguments.map { argument in
            switch argument {
            case .int(let v): String(v)
            case .double(let v): String(v)
            case .text(let v): v.count > 40 ? "'\(v.prefix(40))…'" : "'\(v)'"
            case .intArray(let list): "bigint[\(list.count)]"
            }
        }.joined(separator: ", ")
    }
}
