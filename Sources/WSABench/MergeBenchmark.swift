import ArgumentParser
import Foundation
import Postgres
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// CU8 on a synthetic LAS sky of a million detections or more, beside the same pairing done by
/// one q3c_join statement and by STILTS, and on one session beside several.
struct MergeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "cu8 on 1 and N sessions beside one q3c_join statement and STILTS tmatch2, same rows.",
        discussion: """
            For each --detections: makes a fresh database on the cluster of --database, migrates \
            it with --sql-dir, starts a dbrpcserver on it, and makes a synthetic LAS sky in SQL \
            (untimed): pointings of 4 detectors on a grid with 10 % overlap between neighbours, \
            each observed in the five slots of the LAS merge (Y, H, K stacks; J twice, a year \
            apart), and a seeded star and galaxy field detected in every frame that covers it \
            (positional scatter 0.05–0.3″ with magnitude, dropouts near each band's limit, 25 \
            single-band noise detections per detector). Then, timed (wall): the real cu6 (one \
            session) and, its work undone, curation.cu6_spatial on --sessions SQL sessions at \
            once; the real cu8 with --sessions 1, the catalogue emptied, cu8 with --sessions N (their catalogues must be \
            identical); the J_1 and K detections paired by one q3c_join statement (mutual nearest \
            within 1″); the same rows exported to FITS (export timed apart) and paired by \
            `stilts tmatch2 matcher=sky params=1 join=1and2 find=best`; and all five slots paired \
            by four chained `stilts tmatch2 … join=1or2 find=best` in cu8's order (K, H, J_1, Y, \
            J_2), each later slot matched to the position of the first detection so far, as cu8 \
            pairs. Prints each figure beside its reference, then the scaling over the sizes.

            Example: wsabench merge --database "$WSA_DATABASE" --detections 100000 1000000
            """)

    @Option(help: "Admin conninfo of the cluster (a database wsabench_merge_* is made and dropped per size).")
    var database = ProcessInfo.processInfo.environment["WSA_DATABASE"] ?? ""
    @Option(parsing: .upToNextOption, help: "Detections of the synthetic sky, one run per value (at least this many).")
    var detections: [Int] = [1_000_000]
    @Option(help: "Sessions of the parallel cu8 run (cu8 --sessions).") var sessions = 2
    @Option(help: "cu8 --frame-sets-per-step.") var frameSetsPerStep = 500
    @Option(help: "Seed of the synthetic sky.") var seed = 7
    @Option(help: "Working directory: run/ (logs, exports; removed unless --keep).")
    var work = ".wsa/bench-merge"
    @Flag(help: "Keep the databases and run/ afterwards.") var keep = false
    @Option(help: "Directory of cu6, cu8 and dbrpcserver (default: next to wsabench).") var binDir: String?
    @Option(help: "Schema migrations.") var sqlDir = "sql"
    @Option(help: "psql executable.") var psql = "/usr/bin/psql"
    @Option(help: "stilts executable (Debian package stilts).") var stilts = "/usr/bin/stilts"

    /// Detections one pointing gives on average (measured: 18 200–19 100).
    static let detectionsPerPointing = 18_500

    func validate() throws {
        guard !database.isEmpty else { throw ValidationError("give --database or set WSA_DATABASE") }
        guard !detections.isEmpty, detections.allSatisfy({ $0 >= 10_000 }) else {
            throw ValidationError("--detections: at least 10000 each")
        }
        guard (2...16).contains(sessions), frameSetsPerStep > 0 else {
            throw ValidationError("--sessions is 2 to 16, --frame-sets-per-step positive")
        }
    }

    /// The figures of one size.
    struct Figures {
        var detections = 0, pointings = 0, frameSets = 0, sources = 0, seamless = 0
        var makeSeconds = 0.0
        var cu6One = 0.0, cu6Many = 0.0
        var cu8One = 0.0, cu8Many = 0.0
        var j1 = 0, k = 0, sqlPairs = 0, stiltsPairs = 0, chainRows = 0
        var sqlSeconds = 0.0, sqlPrepare = 0.0
        var stiltsSeconds = 0.0, chainSeconds = 0.0, exportSeconds = 0.0, jvmSeconds = 0.0
    }

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: stilts) else {
            throw ValidationError("\(stilts) not found: install the Debian package stilts, or give --stilts")
        }
        let bin = URL(fileURLWithPath: binDir ?? (Bundle.main.executableURL?.deletingLastPathComponent().path ?? "."))
        let root = URL(fileURLWithPath: work).standardizedFileURL
        var all: [Figures] = []
        for target in detections {
            all.append(try await measure(target, bin: bin, root: root))
        }
        if all.count > 1 { printScaling(all) }
    }

    func measure(_ target: Int, bin: URL, root: URL) async throws -> Figures {
        func tool(_ name: String) -> String { bin.appendingPathComponent(name).path }
        let fm = FileManager.default
        let runDir = root.appendingPathComponent("run-\(target)")
        try? fm.removeItem(at: runDir)
        let out = runDir.appendingPathComponent("out"), scratch = runDir.appendingPathComponent("scratch")
        for d in [out, scratch] { try fm.createDirectory(at: d, withIntermediateDirectories: true) }

        let archive = try await BenchArchive.start(cluster: database, sqlDir: sqlDir, runDirectory: runDir, delivery: runDir,
                                                   daemon: tool("dbrpcserver"), label: "merge")
        defer { archive.close(keep: keep) }
        let db = archive.db
        func count(_ sql: String) throws -> Int { try db.queryValue(Int.self, PostgresQuery(unsafeSQL: sql)) }
        var f = Figures()

        // 1. The synthetic sky (untimed).
        f.pointings = max(1, (target + Self.detectionsPerPointing - 1) / Self.detectionsPerPointing)
        let made = ContinuousClock.now
        try db.execute(unsafeSQL: Self.skySQL(pointings: f.pointings, seed: seed))
        try db.execute(unsafeSQL: "VACUUM ANALYZE")
        f.makeSeconds = (ContinuousClock.now - made).secondsValue
        f.detections = try count("SELECT count(*) FROM lasDetection")
        f.j1 = try count("SELECT count(*) FROM lasDetection d JOIN bench_frame b USING (multiframeID, extNum) WHERE b.slot = 2")
        f.k = try count("SELECT count(*) FROM lasDetection d JOIN bench_frame b USING (multiframeID, extNum) WHERE b.slot = 5")
        f.frameSets = try count("SELECT count(*) FROM curation.cu8_due(101)")
        print(String(format: "merge      %@ detections: %d pointings × 4 detectors × 5 slots (%d frames, %d frame sets), made in SQL in %.1f s",
                     Self.grouped(f.detections), f.pointings, f.pointings * 20, f.frameSets, f.makeSeconds))

        // 2. CU6 first, as curate runs it: the real cu6 (one session), then, the attributes put
        //    back to the default, curation.cu6_spatial on N SQL sessions at once, each a share of
        //    the frames (cu6 has no --sessions: a frame's detections are its own, so any division
        //    of the frames is a partition).
        f.cu6One = try archive.run(tool("cu6"), arguments: ["--programme", "LAS", "--quiet"],
                                   output: out.appendingPathComponent("cu6")).seconds
        let indexed = try count("SELECT count(*) FROM lasDetection WHERE cx < -2")
        guard indexed == 0 else { throw ValidationError("cu6 left \(indexed) detection(s) without spatial attributes") }
        try db.execute(unsafeSQL: """
            UPDATE lasDetection SET cx = -0.9999995e9, cy = -0.9999995e9, cz = -0.9999995e9, l = -0.9999995e9, b = -0.9999995e9;
            UPDATE CurrentAstrometry SET cx = -0.9999995e9, cy = -0.9999995e9, cz = -0.9999995e9, l = -0.9999995e9, b = -0.9999995e9;
            DELETE FROM SpatialIndexLog
            """)
        try db.execute(unsafeSQL: "VACUUM ANALYZE")
        f.cu6Many = try cu6Sessions(archive.conninfo, frames: db.query(PostgresQuery(unsafeSQL: "SELECT multiframeID FROM Multiframe ORDER BY 1"))
            .map { try $0.decode(Int64.self, at: 0) })
        guard try count("SELECT count(*) FROM lasDetection WHERE cx < -2") == 0 else {
            throw ValidationError("cu6_spatial on \(sessions) sessions left detections without spatial attributes")
        }
        print(String(format: "  cu6: %.2f s (one session, the program), %.2f s (cu6_spatial on %d SQL sessions)",
                     f.cu6One, f.cu6Many, sessions))
        try db.execute(unsafeSQL: "VACUUM ANALYZE")

        // 3. cu8, one session, then N: the same catalogue.
        let cu8 = tool("cu8")
        func runCU8(_ sessions: Int) throws -> (seconds: Double, digest: String) {
            try db.execute(unsafeSQL: "VACUUM ANALYZE")
            let load = Self.loadAverage()
            let r = try archive.run(cu8, arguments: ["--programme", "LAS", "--sessions", "\(sessions)",
                                                     "--frame-sets-per-step", "\(frameSetsPerStep)", "--quiet"],
                                    output: out.appendingPathComponent("cu8-\(sessions)"))
            let pending = try count("SELECT count(*) FROM curation.cu8_due(101)")
            guard pending == 0 else { throw ValidationError("cu8 --sessions \(sessions) left \(pending) frame set(s) due") }
            print(String(format: "  cu8 --sessions %d: %7.2f s wall (load average %.2f before)", sessions, r.seconds, load))
            return (r.seconds, try db.queryValue(String.self, PostgresQuery(unsafeSQL: Self.digestSQL)))
        }
        let one = try runCU8(1)
        f.cu8One = one.seconds
        f.sources = try count("SELECT count(*) FROM lasSource")
        f.seamless = try count("SELECT count(*) FROM lasSource WHERE priOrSec = 0 OR priOrSec = frameSetID")
        try db.execute(unsafeSQL: "DELETE FROM lasSource; DELETE FROM lasMergeLog")
        for table in ["lasSource", "lasMergeLog"] { try db.execute(unsafeSQL: "VACUUM FULL \(table)") }
        let many = try runCU8(sessions)
        f.cu8Many = many.seconds
        guard many.digest == one.digest else {
            throw ValidationError("cu8 --sessions \(sessions) made a catalogue different from --sessions 1 (\(many.digest) vs \(one.digest))")
        }

        // 4. One q3c_join statement: J_1 against K, mutual nearest within 1″, on tables of just
        //    those rows with their q3c indexes (made untimed, as the FITS files for STILTS).
        let prepared = ContinuousClock.now
        for (name, slot) in [("j1", 2), ("k", 5)] {
            try db.execute(unsafeSQL: """
                CREATE TABLE bench_\(name) AS
                SELECT (d.multiframeID * 8 + d.extNum) * 1000000 + d.seqNum AS id, d.ra, d.dec
                FROM lasDetection d JOIN bench_frame b USING (multiframeID, extNum) WHERE b.slot = \(slot);
                CREATE INDEX ON bench_\(name) (q3c_ang2ipix(ra, dec));
                ANALYZE bench_\(name)
                """)
        }
        f.sqlPrepare = (ContinuousClock.now - prepared).secondsValue
        let statement = ContinuousClock.now
        try db.execute(unsafeSQL: """
            SET work_mem = '256MB';
            CREATE TABLE bench_sql_pairs AS
            SELECT r.id1, r.id2, r.dist FROM (
                SELECT j.id AS id1, k.id AS id2, q3c_dist(j.ra, j.dec, k.ra, k.dec) AS dist,
                       row_number() OVER (PARTITION BY j.id ORDER BY q3c_dist(j.ra, j.dec, k.ra, k.dec), k.id) AS r1,
                       row_number() OVER (PARTITION BY k.id ORDER BY q3c_dist(j.ra, j.dec, k.ra, k.dec), j.id) AS r2
                FROM bench_j1 j JOIN bench_k k ON q3c_join(j.ra, j.dec, k.ra, k.dec, 1.0 / 3600)) r
            WHERE r.r1 = 1 AND r.r2 = 1;
            RESET work_mem
            """)
        f.sqlSeconds = (ContinuousClock.now - statement).secondsValue
        f.sqlPairs = try count("SELECT count(*) FROM bench_sql_pairs")
        print(String(format: "  one q3c_join statement, J_1 × K: %.2f s, %@ pairs", f.sqlSeconds, Self.grouped(f.sqlPairs)))

        // 5. STILTS: the slots exported to FITS (timed apart), J_1 × K, then the five slots chained.
        let exportStart = ContinuousClock.now
        for (name, slot) in [("y", 1), ("j1", 2), ("j2", 3), ("h", 4), ("k", 5)] {
            let csv = scratch.appendingPathComponent("\(name).csv").path
            let dump = try NightBenchmark.runProgram(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", archive.conninfo, "-c", """
                \\copy (SELECT (d.multiframeID * 8 + d.extNum) * 1000000 + d.seqNum AS id_\(name), d.ra AS ra_\(name), \
                d.dec AS dec_\(name) FROM lasDetection d JOIN bench_frame b USING (multiframeID, extNum) \
                WHERE b.slot = \(slot) ORDER BY 1) TO '\(csv)' WITH (FORMAT csv, HEADER)
                """], output: out.appendingPathComponent("export-\(name)"))
            guard dump.status == 0 else { throw ValidationError("psql \\copy TO failed: \(dump.stderr)") }
            try stiltsRun(["tcopy", "ifmt=csv", "in=\(csv)", "out=\(scratch.appendingPathComponent("\(name).fits").path)"],
                          out: out, name: "tcopy-\(name)")
        }
        f.exportSeconds = (ContinuousClock.now - exportStart).secondsValue
        f.jvmSeconds = try stiltsRun(["-version"], out: out, name: "version")
        func fits(_ name: String) -> String { scratch.appendingPathComponent("\(name).fits").path }
        let pairs = scratch.appendingPathComponent("pairs.fits").path
        f.stiltsSeconds = try stiltsRun(["tmatch2", "in1=\(fits("j1"))", "in2=\(fits("k"))", "matcher=sky",
                                         "values1=ra_j1 dec_j1", "values2=ra_k dec_k", "params=1", "join=1and2",
                                         "find=best", "out=\(pairs)"], out: out, name: "tmatch2")
        f.stiltsPairs = try stiltsCount(pairs, out: out)
        print(String(format: "  stilts tmatch2 J_1 × K: %.2f s, %@ pairs (JVM start alone %.2f s; export of the five slots %.2f s)",
                     f.stiltsSeconds, Self.grouped(f.stiltsPairs), f.jvmSeconds, f.exportSeconds))
        var chained = fits("k")
        var position = ("ra_k", "dec_k")
        for (i, name) in ["h", "j1", "y", "j2"].enumerated() {
            let next = scratch.appendingPathComponent("chain\(i).fits").path
            let ra = "ra_\(name)", dec = "dec_\(name)"
            let keep = i == 0
                ? "delcols Separation; addcol ra_s \"NULL_ra_k ? \(ra) : ra_k\"; addcol dec_s \"NULL_dec_k ? \(dec) : dec_k\""
                : "delcols Separation; replacecol ra_s \"NULL_ra_s ? \(ra) : ra_s\"; replacecol dec_s \"NULL_dec_s ? \(dec) : dec_s\""
            f.chainSeconds += try stiltsRun(["tmatch2", "in1=\(chained)", "in2=\(fits(name))", "matcher=sky",
                                             "values1=\(position.0) \(position.1)", "values2=\(ra) \(dec)", "params=1",
                                             "join=1or2", "find=best", "ocmd=\(keep)", "out=\(next)"],
                                            out: out, name: "chain\(i)")
            chained = next
            position = ("ra_s", "dec_s")
        }
        f.chainRows = try stiltsCount(chained, out: out)
        print(String(format: "  stilts tmatch2 ×4, K → H → J_1 → Y → J_2: %.2f s, %@ rows (cu8: %@ sources, %@ seamless)",
                     f.chainSeconds, Self.grouped(f.chainRows), Self.grouped(f.sources), Self.grouped(f.seamless)))

        printTable(f)
        if keep {
            print("kept: database \(archive.name), \(runDir.path)")
        } else {
            archive.close(keep: false)
            try? fm.removeItem(at: runDir)
        }
        return f
    }

    func printTable(_ f: Figures) {
        let n = Double(f.detections), pair = Double(f.j1 + f.k)
        print("merge      \(Self.grouped(f.detections)) detections (J_1 \(Self.grouped(f.j1)), K \(Self.grouped(f.k))); wall seconds, same run, same rows")
        print("| pairing | rows in | s | rows/s |")
        print("| --- | ---: | ---: | ---: |")
        func row(_ what: String, _ rows: Double, _ s: Double) {
            print(String(format: "| %@ | %@ | %.2f | %@ |", what, Self.grouped(Int(rows)), s, Self.grouped(Int(rows / s))))
        }
        row("cu6 (one session): cx, cy, cz, l, b of every detection", n, f.cu6One)
        row("cu6_spatial on \(sessions) SQL sessions at once", n, f.cu6Many)
        row("cu8 --sessions 1 (\(f.frameSets) frame sets → \(Self.grouped(f.sources)) sources, seamed)", n, f.cu8One)
        row("cu8 --sessions \(sessions) (the same catalogue)", n, f.cu8Many)
        row("STILTS tmatch2 ×4 chained, the five slots (\(Self.grouped(f.chainRows)) rows out)", n, f.chainSeconds)
        row("one q3c_join statement, J_1 × K, mutual nearest within 1″ (\(Self.grouped(f.sqlPairs)) pairs)", pair, f.sqlSeconds)
        row("STILTS tmatch2 J_1 × K, find=best (\(Self.grouped(f.stiltsPairs)) pairs)", pair, f.stiltsSeconds)
        print(String(format: "cu8: %.2f× faster on %d sessions than on 1; rate beside STILTS: %.2f× (1 session) and %.2f× (%d) the chained tmatch2's, "
                     + "%.2f× and %.2f× tmatch2 J_1 × K's, %.2f× and %.2f× the q3c_join statement's",
                     f.cu8One / f.cu8Many, sessions,
                     f.chainSeconds / f.cu8One, f.chainSeconds / f.cu8Many, sessions,
                     (n / f.cu8One) / (pair / f.stiltsSeconds), (n / f.cu8Many) / (pair / f.stiltsSeconds),
                     (n / f.cu8One) / (pair / f.sqlSeconds), (n / f.cu8Many) / (pair / f.sqlSeconds)))
    }

    func printScaling(_ all: [Figures]) {
        print("merge      scaling: cu8 wall seconds (detections/s)")
        print("| detections | frame sets | cu8 --sessions 1 | cu8 --sessions \(sessions) | speed-up | cu6 | cu6_spatial ×\(sessions) | speed-up | STILTS ×4 chained | STILTS J_1 × K |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for f in all {
            let n = Double(f.detections)
            print(String(format: "| %@ | %d | %.2f (%@/s) | %.2f (%@/s) | %.2f× | %.2f | %.2f | %.2f× | %.2f | %.2f |",
                         Self.grouped(f.detections), f.frameSets,
                         f.cu8One, Self.grouped(Int(n / f.cu8One)), f.cu8Many, Self.grouped(Int(n / f.cu8Many)),
                         f.cu8One / f.cu8Many, f.cu6One, f.cu6Many, f.cu6One / f.cu6Many, f.chainSeconds, f.stiltsSeconds))
        }
        if let first = all.first, let last = all.last, first.detections != last.detections {
            let size = Double(last.detections) / Double(first.detections)
            print(String(format: "%.1f× the detections: cu8 --sessions 1 took %.2f× the time, --sessions %d %.2f×, cu6 %.2f×, the STILTS chain %.2f×",
                         size, last.cu8One / first.cu8One, sessions, last.cu8Many / first.cu8Many, last.cu6One / first.cu6One,
                         last.chainSeconds / first.chainSeconds))
        }
    }

    /// curation.cu6_spatial for `frames` on `sessions` connections at once, each a contiguous
    /// share in its own transaction; returns the wall seconds.
    func cu6Sessions(_ conninfo: String, frames: [Int64]) throws -> Double {
        let parts = sessions
        let failures = Locked<[String]>([])
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            let share = frames[(i * frames.count / parts)..<((i + 1) * frames.count / parts)]
            do {
                let c = try PostgresConnection(conninfo, applicationName: "wsabench cu6 \(i)")
                defer { c.close() }
                try c.execute(unsafeSQL: "BEGIN")
                _ = try c.query("SELECT curation.cu6_spatial(101, 1, $1::bigint[])",
                                [.text("{" + share.map(String.init).joined(separator: ",") + "}")])
                try c.execute(unsafeSQL: "COMMIT")
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        let seconds = (ContinuousClock.now - start).secondsValue
        if let failure = failures.withLock({ $0.first }) { throw ValidationError("cu6_spatial: \(failure)") }
        return seconds
    }

    /// Runs stilts; returns its wall seconds. A failure throws with its message.
    @discardableResult
    func stiltsRun(_ arguments: [String], out: URL, name: String) throws -> Double {
        let r = try NightBenchmark.runProgram(stilts, arguments, output: out.appendingPathComponent("stilts-\(name)"))
        guard r.status == 0 else {
            throw ValidationError("stilts \(arguments.first ?? "") exited \(r.status): \(r.stderr.suffix(600))")
        }
        return r.seconds
    }

    /// Rows of a FITS table, by stilts.
    func stiltsCount(_ path: String, out: URL) throws -> Int {
        let r = try NightBenchmark.runProgram(stilts, ["tpipe", "in=\(path)", "omode=count"], output: out.appendingPathComponent("stilts-count"))
        // "columns: 7   rows: 118645"
        guard r.status == 0, let rows = r.stdout.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { throw ValidationError("stilts tpipe omode=count of \(path): \(r.stdout) \(r.stderr)") }
        return rows
    }

    /// The 1-minute load average.
    static func loadAverage() -> Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? loads[0] : -1
    }

    /// 1234567 as "1 234 567".
    static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(" ") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A digest of the merged catalogue's content, without ids: positions, each slot's
    /// detection, magnitudes, class and whether the source is in the seamless selection.
    static let digestSQL = """
        SELECT count(*) || ':' || md5(string_agg(x, ';' ORDER BY x)) FROM (
            SELECT round(s.ra::numeric, 7) || ',' || round(s.dec::numeric, 7) || ',' || ySeqNum || ',' || j_1SeqNum || ','
                   || j_2SeqNum || ',' || hSeqNum || ',' || kSeqNum || ',' || (s.priOrSec = 0 OR s.priOrSec = s.frameSetID) || ','
                   || (s.priOrSec = 0) || ',' || m.ymfID || ',' || m.kmfID || ',' || mergedClass || ',' || pStar || ','
                   || hmkPnt || ',' || kXi AS x
            FROM lasSource s JOIN lasMergeLog m USING (frameSetID) WHERE m.deprecated = 0) q
        """

    /// The synthetic LAS sky, in SQL: `pointings` pointings of 4 detectors (2048² at 0.4″) on a
    /// grid whose neighbouring detectors overlap by 10 %, around (160°, +5°); each pointing
    /// observed in the five slots of the LAS merge (Y, H, K stacks of 40 s; J single frames of
    /// 10 s, two nights a year apart), each frame with a pointing jitter of up to 2″; 40 000
    /// objects per square degree (70 % stars), K from 12 to 19.5 with counts rising 0.3 dex per
    /// magnitude, colours Y−K 1.4, J−K 1.0, H−K 0.25 (× 0.7–1.3 per object), detected in every
    /// frame that covers them with a scatter of 0.05″ + 0.25″ × 10^(0.4 (m − limit)) and a
    /// probability falling to 0 at 0.3 mag past the band's limit (Y 20.2, J 19.9, H 18.8, K
    /// 18.2); 25 single-band noise detections per detector. Every draw is a hash of the object,
    /// the frame and `seed` (`hashint8extended`), so the sky is the same whatever plan the
    /// database chooses. Multiframe, MultiframeDetector, CurrentAstrometry, CatalogueIngest and
    /// lasDetection rows as cu3 and cu4 would write them (cuEventID 1).
    static func skySQL(pointings n: Int, seed: Int) -> String {
        """
        SET work_mem = '512MB';
        CREATE FUNCTION bench_u(id bigint, k integer, seed bigint) RETURNS double precision
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
            $$ SELECT ((hashint8extended(id * 64 + k, seed) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$;
        CREATE FUNCTION bench_n(id bigint, k integer, seed bigint) RETURNS double precision
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
            $$ SELECT sqrt(-2 * ln(1 - bench_u(id, k, seed))) * cos(2 * pi() * bench_u(id, k + 1, seed)) $$;
        CREATE TABLE bench_slot (slot int, filterID smallint, frameType text, lim double precision, colour double precision,
                                 night double precision, expTime real);
        INSERT INTO bench_slot VALUES
            (1, 2, 'stack', 20.2, 1.4, 53655, 40), (2, 3, 'normal', 19.9, 1.0, 53655, 10), (3, 3, 'normal', 19.9, 1.0, 54020, 10),
            (4, 4, 'stack', 18.8, 0.25, 53655, 40), (5, 5, 'stack', 18.2, 0, 53655, 40);
        CREATE TABLE bench_frame AS
        WITH g AS (SELECT ceil(sqrt(\(n)))::int AS cols, ceil(\(n) / ceil(sqrt(\(n))))::int AS rows, 2048 * 0.4 / 3600 AS w),
        p AS (SELECT p, p % g.cols AS pi, p / g.cols AS pj, g.* FROM g, generate_series(0, \(n) - 1) p),
        f AS (SELECT p.*, s.*, (p.p * 5 + s.slot)::bigint AS multiframeID,
                     (bench_u(p.p * 5 + s.slot, 1, \(seed)) - 0.5) * 4 / 3600 AS jxi,
                     (bench_u(p.p * 5 + s.slot, 2, \(seed)) - 0.5) * 4 / 3600 AS jeta
              FROM p, bench_slot s),
        d AS (SELECT f.*, (2 * f.pi + a) AS ti, (2 * f.pj + b) AS tj, (2 + a + 2 * b)::smallint AS extNum
              FROM f, (VALUES (0), (1)) x(a), (VALUES (0), (1)) y(b))
        SELECT d.*, (d.ti - (2 * d.cols - 1) / 2.0) * 0.9 * d.w + d.jxi AS xi,
               (d.tj - (2 * d.rows - 1) / 2.0) * 0.9 * d.w + d.jeta AS eta
        FROM d;
        ALTER TABLE bench_frame ADD COLUMN centralDec double precision, ADD COLUMN centralRa double precision;
        UPDATE bench_frame SET centralDec = 5 + eta, centralRa = 160 + xi / cosd(5 + eta);
        CREATE INDEX ON bench_frame (multiframeID, extNum);

        INSERT INTO Multiframe (multiframeID, fileName, frameType, programmeID, project, filterID, filterName, mjdObs, expTime, cuEventID)
        SELECT DISTINCT multiframeID, format('/bench/w%s_%s.fit', multiframeID, slot), frameType, 101, 'U/UKIDSS/LAS', filterID,
               'X', night + 0.3 + p * 0.0005, expTime, 1 FROM bench_frame;
        SELECT setval(pg_get_serial_sequence('multiframe', 'multiframeid'), (SELECT max(multiframeID) FROM Multiframe));
        INSERT INTO MultiframeDetector (multiframeID, extNum, camNum, seeing, totalExpTime, axis1Length, axis2Length, cuEventID)
        SELECT multiframeID, extNum, extNum - 1, 2.2 + bench_u(multiframeID * 8 + extNum, 3, \(seed)) * 0.5, expTime, 2048, 2048, 1
        FROM bench_frame;
        INSERT INTO CurrentAstrometry (multiframeID, extNum, centralRa, centralDec, minRa, maxRa, minDec, maxDec, xPixSize, yPixSize, cuEventID)
        SELECT multiframeID, extNum, centralRa, centralDec, centralRa - w / 2 / cosd(centralDec), centralRa + w / 2 / cosd(centralDec),
               centralDec - w / 2, centralDec + w / 2, 0.4, 0.4, 1 FROM bench_frame;

        CREATE TABLE bench_star AS
        WITH b AS (SELECT min(xi) - w AS x0, max(xi) + w AS x1, min(eta) - w AS e0, max(eta) + w AS e1 FROM bench_frame GROUP BY w),
        n AS (SELECT b.*, round(40000 * (x1 - x0) * (e1 - e0))::bigint AS n FROM b)
        SELECT g AS id, n.x0 + bench_u(g, 10, \(seed)) * (n.x1 - n.x0) AS xi, n.e0 + bench_u(g, 11, \(seed)) * (n.e1 - n.e0) AS eta,
               log(10 ^ (0.3 * 12) + bench_u(g, 12, \(seed)) * (10 ^ (0.3 * 19.5) - 10 ^ (0.3 * 12))) / 0.3 AS kmag,
               bench_u(g, 13, \(seed)) < 0.7 AS isStar
        FROM n, generate_series(1, n.n) g;
        ALTER TABLE bench_star ADD COLUMN dec double precision, ADD COLUMN ra double precision;
        UPDATE bench_star SET dec = 5 + eta, ra = 160 + xi / cosd(5 + eta);

        -- Each object in every frame that covers it (two candidate tiles each way: the step is
        -- 0.9 of a detector), kept with the probability of its magnitude in that band.
        CREATE TABLE bench_det AS
        WITH g AS (SELECT DISTINCT cols, rows, w FROM bench_frame),
        c AS (SELECT s.*, floor(s.xi / (0.9 * g.w) + (2 * g.cols - 1) / 2.0)::int AS ti0,
                     floor(s.eta / (0.9 * g.w) + (2 * g.rows - 1) / 2.0)::int AS tj0,
                     0.7 + 0.6 * bench_u(s.id, 14, \(seed)) AS colourScale
              FROM bench_star s, g),
        cand AS (SELECT c.*, c.ti0 + a AS ti, c.tj0 + b AS tj FROM c, (VALUES (0), (1)) x(a), (VALUES (0), (1)) y(b))
        SELECT f.multiframeID, f.extNum, f.filterID, f.lim, f.centralRa, f.centralDec, cand.id AS star, cand.ra, cand.dec,
               cand.kmag + f.colour * cand.colourScale AS mag, cand.isStar,
               cand.id * 1000003 + f.multiframeID * 8 + f.extNum AS detKey
        FROM cand JOIN bench_frame f ON f.ti = cand.ti AND f.tj = cand.tj
        WHERE abs(cand.dec - f.centralDec) <= f.w / 2 AND abs(cand.ra - f.centralRa) * cosd(f.centralDec) <= f.w / 2
          AND bench_u(cand.id * 1000003 + f.multiframeID * 8 + f.extNum, 20, \(seed))
              < 0.98 * least(1, greatest(0, (f.lim + 0.3 - (cand.kmag + f.colour * cand.colourScale)) / 1.3));

        INSERT INTO lasDetection (multiframeID, extNum, seqNum, filterID, x, xErr, y, yErr, ra, dec, gausig, ell, pa,
                                  aperMag3, aperMag3Err, aperMag4, aperMag4Err, aperMag6, aperMag6Err, petroMag, petroMagErr,
                                  hallMag, hallMagErr, errBits, class, classStat, ppErrBits, cuEventID)
        SELECT q.multiframeID, q.extNum,
               row_number() OVER (PARTITION BY q.multiframeID, q.extNum ORDER BY q.y, q.x)::integer,
               q.filterID, q.x, q.posErr, q.y, q.posErr, q.ra, q.dec, q.gausig, q.ell, q.pa,
               q.mag3, q.magErr, q.mag3 - q.aper4, q.magErr * 1.2, q.mag3 - q.aper6, q.magErr * 1.5,
               q.mag3 - q.aper6 - 0.05, q.magErr * 1.6, q.mag3 - 0.03, q.magErr * 1.1, 0, q.class, q.classStat, 0, 1
        FROM (
            SELECT r.*, (r.centralRa - r.ra) * cosd(r.centralDec) * 9000 + 1024.5 AS x, (r.dec - r.centralDec) * 9000 + 1024.5 AS y
            FROM (
                SELECT d.multiframeID, d.extNum, d.filterID, d.centralRa, d.centralDec,
                       d.ra + e.sig * bench_n(d.detKey, 21, \(seed)) / 3600 / cosd(d.dec) AS ra,
                       d.dec + e.sig * bench_n(d.detKey, 23, \(seed)) / 3600 AS dec,
                       e.sig / 0.4 AS posErr,
                       d.mag + e.magErr * bench_n(d.detKey, 25, \(seed)) AS mag3, e.magErr,
                       CASE WHEN d.isStar THEN 0.05 ELSE 0.25 END AS aper4, CASE WHEN d.isStar THEN 0.08 ELSE 0.6 END AS aper6,
                       CASE WHEN d.isStar THEN 1.0 ELSE 1.7 END + 0.1 * bench_u(d.detKey, 27, \(seed)) AS gausig,
                       CASE WHEN d.isStar THEN 0.05 ELSE 0.35 END * bench_u(d.detKey, 28, \(seed)) AS ell,
                       180 * bench_u(d.detKey, 29, \(seed)) AS pa,
                       (CASE WHEN d.isStar AND d.mag < 12.5 THEN -9
                             WHEN d.isStar THEN CASE WHEN d.mag < d.lim - 1 THEN -1 ELSE -2 END
                             ELSE CASE WHEN d.mag < d.lim - 1 THEN 1 ELSE -3 END END)::smallint AS class,
                       CASE WHEN d.isStar THEN 0 ELSE 5 END + bench_n(d.detKey, 30, \(seed)) AS classStat
                FROM bench_det d
                CROSS JOIN LATERAL (SELECT 0.05 + 0.25 * 10 ^ (0.4 * (d.mag - d.lim)) AS sig,
                                           0.005 + 0.1 * 10 ^ (0.4 * (d.mag - d.lim)) AS magErr) e
                UNION ALL
                SELECT f.multiframeID, f.extNum, f.filterID, f.centralRa, f.centralDec,
                       f.centralRa + (bench_u(k, 31, \(seed)) - 0.5) * f.w / cosd(f.centralDec),
                       f.centralDec + (bench_u(k, 32, \(seed)) - 0.5) * f.w,
                       0.75, f.lim - 0.3 + 0.6 * bench_u(k, 33, \(seed)), 0.12, 0.1, 0.2, 1.5, 0.2,
                       180 * bench_u(k, 34, \(seed)), 0::smallint, bench_n(k, 35, \(seed))
                FROM bench_frame f
                CROSS JOIN LATERAL (SELECT (f.multiframeID * 8 + f.extNum) * 1000 + i AS k FROM generate_series(1, 25) i) n
            ) r
        ) q;
        INSERT INTO CatalogueIngest (multiframeID, catName, detectionTable, rowsLoaded, cuEventID)
        SELECT m.multiframeID, replace(m.fileName, '.fit', '_cat.fits'), 'lasDetection',
               (SELECT count(*) FROM lasDetection d WHERE d.multiframeID = m.multiframeID), 1
        FROM Multiframe m;
        DROP TABLE bench_det, bench_star;
        RESET work_mem
        """
    }
}
