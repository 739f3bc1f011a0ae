import ArgumentParser
import Foundation
import Postgres
import TransactionFormat

/// Binary COPY of detection-like rows: our libpq binding against `psql \copy` of the same rows.
struct CopyBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Load detection-like rows by binary COPY through our binding and through psql.",
        discussion: """
            Makes --rows deterministic detection-like rows (ids, positions, fluxes, magnitudes, \
            flags: 20 columns), writes them once as a PostgreSQL binary COPY file, then loads \
            them into identical unindexed tables: (1) our binding encoding straight from memory, \
            (2) our binding streaming the file, (3) `psql -c '\\copy … (format binary)'` of the \
            same file. Best of --repeat runs each; row counts are checked.

            Example: wsabench copy --database "$WSA_DATABASE" --rows 1000000
            """)

    @Option(help: "libpq conninfo of the database to use (a scratch schema `bench` is made).")
    var database = ProcessInfo.processInfo.environment["WSA_DATABASE"] ?? ""

    @Option(help: "Rows to load.")
    var rows = 1_000_000

    @Option(help: "Runs of each loader; the best is reported.")
    var `repeat` = 2

    @Option(help: "psql executable.")
    var psql = "/usr/bin/psql"

    static let columns: [(String, String)] = [
        ("multiframeID", "bigint"), ("extNum", "smallint"), ("seqNum", "integer"),
        ("filterID", "smallint"), ("ra", "double precision"), ("dec", "double precision"),
        ("x", "real"), ("xErr", "real"), ("y", "real"), ("yErr", "real"),
        ("aperFlux3", "real"), ("aperFlux3Err", "real"), ("aperMag3", "real"), ("aperMag3Err", "real"),
        ("petroFlux", "real"), ("petroMag", "real"), ("class", "smallint"), ("classStat", "real"),
        ("errBits", "integer"), ("objID", "bigint"),
    ]

    func validate() throws {
        guard !database.isEmpty else { throw ValidationError("give --database or set WSA_DATABASE") }
        guard rows > 0 else { throw ValidationError("--rows must be positive") }
    }

    /// Writes row `i` (deterministic) to the COPY writer.
    static func writeRow(_ i: Int, _ w: PostgresBinaryCopyWriter) throws {
        try w.beginRow(fieldCount: columns.count)
        let f = Double(i)
        w.write(Int64(1000 + i / 4000))
        w.write(Int16(1 + (i / 1000) % 4))
        w.write(Int32(1 + i % 1000))
        w.write(Int16(1 + i % 5))
        w.write(150.0 + f * 1e-6)
        w.write(2.0 + Double(i % 4000) * 1e-4)
        w.write(Float(i % 2048) + 0.25)
        w.write(Float(0.01))
        w.write(Float((i / 7) % 2048) + 0.5)
        w.write(Float(0.012))
        w.write(Float(1000 + i % 50_000))
        w.write(Float(12.5))
        w.write(Float(14 + Double(i % 700) * 0.01))
        w.write(Float(0.02))
        w.write(Float(1100 + i % 50_000))
        w.write(Float(13.9))
        w.write(Int16(i % 3 - 1))
        w.write(Float(0.5))
        w.write(Int32(0))
        w.write(Int64(i))
    }

    func run() throws {
        let db = try PostgresConnection(database, applicationName: "wsabench")
        defer { db.close() }
        let names = Self.columns.map(\.0)
        try db.execute(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS bench")
        let definition = Self.columns.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        for t in ["ours_memory", "ours_file", "psql_file"] {
            try db.execute(unsafeSQL: "DROP TABLE IF EXISTS bench.\(t); CREATE UNLOGGED TABLE bench.\(t) (\(definition))")
        }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsabench-\(getpid()).pgcopy").path
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        guard let out = FileHandle(forWritingAtPath: file) else {
            throw ValidationError("cannot write \(file)")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        let encodeStart = DispatchTime.now().uptimeNanoseconds
        let writer = PostgresBinaryCopyWriter { out.write(Data($0)) }
        for i in 0..<rows { try Self.writeRow(i, writer) }
        _ = try writer.finish()
        try out.close()
        let encodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - encodeStart) / 1e9
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0

        func timed(_ table: String, _ load: () throws -> Void) throws -> Double {
            var best = Double.infinity
            for _ in 0..<max(1, `repeat`) {
                try db.execute(unsafeSQL: "TRUNCATE bench.\(table)")
                let start = DispatchTime.now().uptimeNanoseconds
                try load()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                let n = try db.query("SELECT count(*) FROM bench.\(table)", []).first!.decode(Int64.self, at: 0)
                guard n == rows else { throw ValidationError("bench.\(table) holds \(n) rows, not \(rows)") }
            }
            return best
        }
        let memory = try timed("ours_memory") {
            _ = try db.copyBinary(into: "bench.ours_memory", columns: names) { w in
                for i in 0..<rows { try Self.writeRow(i, w) }
            }
        }
        let streamed = try timed("ours_file") {
            _ = try db.copyIn(into: "bench.ours_file", columns: names, format: .binary, contentsOf: file)
        }
        let psqlSeconds = try timed("psql_file") {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: psql)
            p.arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", database, "-c",
                           "\\copy bench.psql_file (\(names.joined(separator: ", "))) from '\(file)' with (format binary)"]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("psql \\copy failed") }
        }
        for t in ["ours_memory", "ours_file", "psql_file"] {
            try db.execute(unsafeSQL: "DROP TABLE bench.\(t)")
        }
        let r = Double(rows)
        print("copy       \(rows) detection-like rows, \(Self.columns.count) columns, \(bytes / 1_048_576) MiB binary COPY")
        print(String(format: "  encode to file (ours):          %7.3f s  %9.0f rows/s", encodeSeconds, r / encodeSeconds))
        print(String(format: "  ours, encoded from memory:      %7.3f s  %9.0f rows/s", memory, r / memory))
        print(String(format: "  ours, streaming the file:       %7.3f s  %9.0f rows/s", streamed, r / streamed))
        print(String(format: "  psql \\copy of the same file:    %7.3f s  %9.0f rows/s", psqlSeconds, r / psqlSeconds))
        print(String(format: "  ratio ours (memory)/psql rate:  %.2f", psqlSeconds / memory))
    }
}
