import ArgumentParser
import Curation
import Foundation
import Postgres
import WrapperCore
import TransactionFormat
import SystemSupport
import RPCContract

/// Loads through dbrpcserver against `psql \copy` of the same file, and XML-RPC calls per second.
struct RPCBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "loadTransactionData through a running dbrpcserver vs psql \\copy; XML-RPC calls/s.",
        discussion: """
            Writes --rows detection-like rows (20 columns) as one transaction file in the server's \
            spool, then, best of --repeat each: (1) a whole DbHandler step — writeLock, beginStep, \
            loadTransactionData (verify + COPY + ledger), updateCurationLog (commit) — and (2) \
            `psql \\copy` of the same file in one transaction into an identical table. Then \
            --clients concurrent DbHandler clients call serverInfo for --seconds, beside the \
            same clients calling Python's standard SimpleXMLRPCServer (threaded) on the same port \
            kind, as the reference.

            Example: wsabench rpc --database "$WSA_DATABASE" --url http://127.0.0.1:8765/RPC2 \\
                       --user cu --password secret --spool .wsa/spool
            """)

    @Option(help: "Admin conninfo of the daemon's database (tables are made and dropped).")
    var database = ProcessInfo.processInfo.environment["WSA_DATABASE"] ?? ""
    @Option(help: "The daemon's XML-RPC URL.") var url: String
    @Option(help: "Curator user.") var user: String
    @Option(help: "Curator password.") var password: String
    @Option(help: "The daemon's spool directory ([paths] spool).") var spool: String
    @Option(help: "Rows to load.") var rows = 1_000_000
    @Option(help: "Runs of each loader; the best is reported.") var `repeat` = 3
    @Option(help: "Concurrent clients for calls/s.") var clients = 8
    @Option(help: "Seconds of calls per measurement.") var seconds = 5.0
    @Option(help: "psql executable.") var psql = "/usr/bin/psql"
    @Option(help: "python3 executable (reference server).") var python = "/usr/bin/python3"

    func run() async throws {
        let admin = try PostgresConnection(database, applicationName: "wsabench rpc")
        defer { admin.close() }
        let columns = CopyBenchmark.columns
        let definition = columns.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        for t in ["bench_rpc", "bench_psql"] {
            try admin.execute(unsafeSQL: "DROP TABLE IF EXISTS \(t); CREATE TABLE \(t) (\(definition))")
        }
        defer { _ = try? admin.execute(unsafeSQL: "DROP TABLE IF EXISTS bench_rpc; DROP TABLE IF EXISTS bench_psql") }
        var config = WSAConfig()
        config.rpc.url = url
        config.rpc.user = user
        config.rpc.password = password
        config.paths.spool = spool
        let db = try DbHandler(config: config, program: "wsabench")
        let (manifest, data) = try TransactionFile.write(to: db.transactionDirectory, table: "bench_rpc",
                                                         columns: columns.map(\.0), writer: "wsabench rpc") { w in
            for i in 0..<rows { try CopyBenchmark.writeRow(i, w) }
        }
        let bytes = manifest.byteCount
        let keep = data.deletingLastPathComponent().appendingPathComponent("bench-\(getpid()).pgcopy")
        try? FileManager.default.removeItem(at: keep)
        try FileManager.default.linkItem(at: data, to: keep)  // the server removes its copy after each commit
        defer { try? FileManager.default.removeItem(at: keep) }
        let manifestJSON = try Data(contentsOf: data.deletingPathExtension().appendingPathExtension("json"))

        var ours = Double.infinity, theirs = Double.infinity
        for _ in 0..<max(1, `repeat`) {
            try admin.execute(unsafeSQL: "TRUNCATE bench_rpc; DELETE FROM LoadLedger WHERE checksum = '\(manifest.sha256)'")
            if !FileManager.default.fileExists(atPath: data.path) {
                try FileManager.default.linkItem(at: keep, to: data)
                try manifestJSON.write(to: data.deletingPathExtension().appendingPathExtension("json"))
            }
            let start = ContinuousClock.now
            try await db.writeLock(wait: .seconds(30))
            let step = try await db.beginStep(cu: 4, programme: nil)
            let outcome = try await db.loadTransactionData(
                TransactionData(dataFile: data, table: manifest.table, rowCount: manifest.rowCount, sha256: manifest.sha256),
                in: step)
            try await db.updateCurationLog(step, status: .succeeded)
            try await db.writeUnlock()
            ours = min(ours, (ContinuousClock.now - start).secondsValue)
            guard outcome.rows == rows, !outcome.alreadyLoaded else {
                throw ValidationError("the daemon loaded \(outcome.rows) rows (alreadyLoaded \(outcome.alreadyLoaded))")
            }

            try admin.execute(unsafeSQL: "TRUNCATE bench_psql")
            let psqlStart = ContinuousClock.now
            let p = Process()
            p.executableURL = URL(fileURLWithPath: psql)
            p.arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", database, "-c",
                           "\\copy bench_psql (\(columns.map(\.0).joined(separator: ", "))) from '\(keep.path)' with (format binary)"]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("psql \\copy failed") }
            theirs = min(theirs, (ContinuousClock.now - psqlStart).secondsValue)
            let n = try admin.queryValue(Int.self, "SELECT count(*) FROM bench_psql")
            guard n == rows else { throw ValidationError("psql loaded \(n) rows") }
        }
        let r = Double(rows)
        print("rpc load   \(rows) detection-like rows, \(columns.count) columns, \(bytes / 1_048_576) MiB, indexed table: none")
        print(String(format: "  dbrpcserver step (lock, begin, load, commit): %7.3f s  %9.0f rows/s", ours, r / ours))
        print(String(format: "  psql \\copy of the same file:                  %7.3f s  %9.0f rows/s", theirs, r / theirs))
        print(String(format: "  ratio ours/psql rate:                         %.2f", theirs / ours))

        let rate = try await callRate(db)
        let reference = try await referenceRate()
        print(String(format: "rpc calls  %d concurrent clients, %.0f s each", clients, seconds))
        print(String(format: "  dbrpcserver serverInfo:                       %9.0f calls/s", rate))
        print(String(format: "  Python SimpleXMLRPCServer (threaded), same:   %9.0f calls/s", reference))
    }

    private func callRate(_ db: DbHandler) async throws -> Double {
        try await Self.hammer(clients: clients, seconds: seconds) { _ = try await db.serverInfo() }
    }

    private func referenceRate() async throws -> Double {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("wsabench-ref-\(getpid())").path
        let script = """
            import sys
            from xmlrpc.server import SimpleXMLRPCServer
            from socketserver import ThreadingMixIn
            class S(ThreadingMixIn, SimpleXMLRPCServer):
                daemon_threads = True
            s = S(("127.0.0.1", 0), logRequests=False, allow_none=True)
            s.register_function(lambda: {"version": "x", "startedAt": "2026-01-01T00:00:00Z", "spool": "/x", "defaultLeaseSeconds": 60.0, "openRuns": []}, "serverInfo")
            open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
            import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            s.serve_forever()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, portFile]
        try p.run()
        // SIGKILL: a child of Foundation's Process may start with SIGTERM blocked.
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); try? FileManager.default.removeItem(atPath: portFile) }
        var port: Int?
        for _ in 0..<200 where port == nil {
            try await Task.sleep(for: .milliseconds(25))
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
        }
        guard let port else { throw ValidationError("the Python reference server did not start") }
        var config = WSAConfig()
        config.rpc.url = "http://127.0.0.1:\(port)/RPC2"
        config.rpc.password = "unused"
        let client = try DbHandler(config: config, program: "wsabench")
        return try await Self.hammer(clients: clients, seconds: seconds) { _ = try await client.serverInfo() }
    }

    static func hammer(clients: Int, seconds: Double, _ call: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<max(1, clients) {
                group.addTask {
                    var n = 0
                    while ContinuousClock.now < deadline {
                        try await call()
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - start).secondsValue
    }
}
