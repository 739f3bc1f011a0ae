import ArgumentParser
import Foundation
import Postgres

/// A throwaway archive for benchmarks that run the real CUs: a fresh database on the cluster of
/// an admin conninfo, migrated, with its own dbrpcserver, and the WSA_* environment the CUs run
/// with (every path under the run directory, delivery from `delivery`). ``close(keep:)`` stops
/// the daemon and, unless kept, drops the database.
final class BenchArchive {
    /// A current product and its inputs (from Multiframe and Provenance).
    struct Product {
        var id: Int64
        var kind: String
        var image: URL
        var confidence: URL
        var inputs: [(image: URL, confidence: URL)]
    }

    let name: String
    let conninfo: String
    let db: PostgresConnection
    let environment: [String: String]
    let logDirectory: URL
    private let admin: PostgresConnection
    private let daemon: Process
    private var closed = false

    private init(name: String, conninfo: String, db: PostgresConnection, environment: [String: String],
                 logDirectory: URL, admin: PostgresConnection, daemon: Process) {
        self.name = name
        self.conninfo = conninfo
        self.db = db
        self.environment = environment
        self.logDirectory = logDirectory
        self.admin = admin
        self.daemon = daemon
    }

    static func start(cluster: String, sqlDir: String, runDirectory runDir: URL, delivery: URL,
                      daemon dbrpcserver: String, label: String) async throws -> BenchArchive {
        let fm = FileManager.default
        for d in ["archive", "jpeg", "quarantine", "spool", "log", "out"] {
            try fm.createDirectory(at: runDir.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        let out = runDir.appendingPathComponent("out")
        let admin = try PostgresConnection(cluster, applicationName: "wsabench \(label)")
        let name = "wsabench_\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        try admin.execute(unsafeSQL: "CREATE DATABASE \(name)")
        var daemon: Process?
        var db: PostgresConnection?
        do {
            let conninfo = try NightBenchmark.conninfo(cluster, dbname: name)
            db = try PostgresConnection(conninfo, applicationName: "wsabench \(label)")
            _ = try SchemaMigrator(directory: URL(fileURLWithPath: sqlDir)).migrate(on: db!)

            let password = UUID().uuidString
            let users = runDir.appendingPathComponent("users")
            let hashed = try NightBenchmark.runProgram(dbrpcserver, ["hash-secret", "--user", "bench", "--role", "curator",
                                                                     "--iterations", "10000"],
                                                       stdin: password + "\n", output: out.appendingPathComponent("hash-secret"))
            guard hashed.status == 0 else { throw ValidationError("dbrpcserver hash-secret failed: \(hashed.stderr)") }
            try hashed.stdout.write(to: users, atomically: true, encoding: .utf8)
            let spool = runDir.appendingPathComponent("spool"), logDir = runDir.appendingPathComponent("log")
            let portFile = runDir.appendingPathComponent("port")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: dbrpcserver)
            p.arguments = ["serve", "--database", conninfo, "--users-file", users.path, "--port", "0", "--port-file", portFile.path]
            p.environment = ProcessInfo.processInfo.environment.merging(
                ["WSA_PATHS_SPOOL": spool.path, "WSA_PATHS_LOG": logDir.path, "WSA_LOGGING_LEVEL": "info"]) { $1 }
            _ = fm.createFile(atPath: out.appendingPathComponent("daemon.out").path, contents: nil)
            let daemonOut = try FileHandle(forWritingTo: out.appendingPathComponent("daemon.out"))
            p.standardOutput = daemonOut
            p.standardError = daemonOut
            try p.run()
            daemon = p
            var port: Int?
            for _ in 0..<600 where port == nil {
                try await Task.sleep(for: .milliseconds(50))
                guard p.isRunning else { throw ValidationError("dbrpcserver exited at start (see \(out.path)/daemon.out)") }
                port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            guard let port else { throw ValidationError("dbrpcserver did not start within 30 s") }

            let noConfig = runDir.appendingPathComponent("none.toml")
            try "# wsabench configures through WSA_* variables\n".write(to: noConfig, atomically: true, encoding: .utf8)
            let environment = ProcessInfo.processInfo.environment.merging([
                "WSA_CONFIG": noConfig.path,
                "WSA_DATABASE_URL": conninfo,
                "WSA_DATABASE_READER_URL": try NightBenchmark.conninfo(cluster, dbname: name, user: "wsa_reader"),
                "WSA_RPC_URL": "http://127.0.0.1:\(port)/RPC2",
                "WSA_RPC_USER": "bench",
                "WSA_RPC_PASSWORD": password,
                "WSA_PATHS_DELIVERY": delivery.path,
                "WSA_PATHS_ARCHIVE": runDir.appendingPathComponent("archive").path,
                "WSA_PATHS_JPEG": runDir.appendingPathComponent("jpeg").path,
                "WSA_PATHS_QUARANTINE": runDir.appendingPathComponent("quarantine").path,
                "WSA_PATHS_SPOOL": spool.path,
                "WSA_PATHS_LOG": logDir.path,
                "WSA_LOGGING_LEVEL": "info",
                "WSA_LOGGING_STDERR": "never",
            ]) { $1 }
            return BenchArchive(name: name, conninfo: conninfo, db: db!, environment: environment, logDirectory: logDir,
                                admin: admin, daemon: p)
        } catch {
            if let daemon { NightBenchmark.stop(daemon) }
            db?.close()
            _ = try? admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            admin.close()
            throw error
        }
    }

    /// Runs a CU (or any program) with the archive's environment; a non-zero exit throws.
    func run(_ program: String, arguments: [String] = [], output: URL) throws -> NightBenchmark.Ran {
        let r = try NightBenchmark.runProgram(program, arguments, environment: environment, output: output)
        guard r.status == 0 else {
            throw ValidationError("\(URL(fileURLWithPath: program).lastPathComponent) exited \(r.status): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (logs in \(logDirectory.path))")
        }
        return r
    }

    /// The current stacks and mosaics, by file name, with their inputs in Provenance order.
    func products() throws -> [Product] {
        var products: [Product] = []
        for row in try db.query("""
            SELECT m.multiframeID, m.frameType, m.fileName, c.fileName FROM Multiframe m
            JOIN Multiframe c ON c.multiframeID = m.confID
            WHERE m.frameType IN ('stack', 'mosaic') AND m.deprecated = 0 ORDER BY m.fileName
            """) {
            products.append(Product(id: try row.decode(Int64.self, at: 0), kind: row.text(at: 1) ?? "",
                                    image: URL(fileURLWithPath: row.text(at: 2) ?? ""),
                                    confidence: URL(fileURLWithPath: row.text(at: 3) ?? ""), inputs: []))
        }
        for i in products.indices {
            for row in try db.query("""
                SELECT m.fileName, c.fileName FROM Provenance p JOIN Multiframe m ON m.multiframeID = p.multiframeID
                JOIN Multiframe c ON c.multiframeID = m.confID
                WHERE p.combiframeID = \(products[i].id) ORDER BY p.inputOrder
                """) {
                products[i].inputs.append((URL(fileURLWithPath: row.text(at: 0) ?? ""), URL(fileURLWithPath: row.text(at: 1) ?? "")))
            }
        }
        return products
    }

    /// Detection rows CatalogueIngest records for `products`.
    func detections(of products: [Product]) throws -> Int {
        var n: Int64 = 0
        for product in products {
            n += try db.queryValue(Int64.self, "SELECT coalesce(sum(rowsLoaded), 0)::bigint FROM CatalogueIngest WHERE multiframeID = \(product.id)")
        }
        return Int(n)
    }

    /// Stops the daemon, closes the connections and drops the database unless `keep`; once.
    func close(keep: Bool) {
        guard !closed else { return }
        closed = true
        NightBenchmark.stop(daemon)
        db.close()
        if !keep { _ = try? admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        admin.close()
    }
}
