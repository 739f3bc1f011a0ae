import ArgumentParser
import Curation
import FITS
import Foundation
import Postgres
import WrapperCore
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// A whole simulated night through cu1–cu4, each beside its unavoidable part measured in the
/// same run: copying the files, decoding the pixels, `psql \copy` of the same rows, fitspng.
struct NightBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "night",
        abstract: "A simulated night through cu1–cu4 beside cp, cfitsio decoding, psql \\copy and fitspng.",
        discussion: """
            Simulates one night with wfcamsim into --work/sim (kept and reused while the options \
            are the same), makes a fresh database on the cluster of --database, migrates it with \
            --sql-dir, starts a dbrpcserver on it, then runs cu1, cu2, cu3 and cu4 one after \
            another (the release binaries in --bin-dir), timing each (wall). Then, in the same \
            run: `cp -R` of the delivered night to a scratch directory; reading every image \
            extension of every image frame with cfitsio (FITSFile.readPixels as float32, \
            --jobs threads); `psql \\copy … FROM … (FORMAT binary)` of the detection rows cu4 \
            loaded (dumped with `\\copy (SELECT …) TO`) into a fresh `LIKE … INCLUDING ALL` copy \
            of the detection table; and fitspng writing one PNG per image extension \
            (`fitspng -o out.png 'file.fit[N]'`, --jobs processes at a time). Each measured once.

            Example: wsabench night --database "$WSA_DATABASE" --size 2048 --frames 100
            """)

    @Option(help: "Admin conninfo of the cluster (a database wsabench_night_* is made and dropped).")
    var database = ProcessInfo.processInfo.environment["WSA_DATABASE"] ?? ""
    @Option(help: "Detector side in pixels.") var size = 2048
    @Option(help: "About this many image frames (pointings chosen to match; see --pointings).")
    var frames = 100
    @Option(help: "wfcamsim programmes, comma-separated.") var programmes = "LAS"
    @Option(help: "wfcamsim pointings (default: from --frames).") var pointings: Int?
    @Option(help: "wfcamsim exposures (default: 1).") var exposures: Int?
    @Option(help: "wfcamsim seed.") var seed = 7
    @Option(help: "The UT night (YYYYMMDD).") var night = "20051012"
    @Option(help: "Working directory: sim/ (kept), run/ (removed unless --keep).")
    var work = ".wsa/bench-night"
    @Flag(help: "Keep the database and run/ (archive, JPEGs, logs, scratch) afterwards.")
    var keep = false
    @Option(help: "Directory of cu1…cu4, dbrpcserver and wfcamsim (default: next to wsabench).")
    var binDir: String?
    @Option(help: "Schema migrations.") var sqlDir = "sql"
    @Option(help: "Threads for decoding and fitspng processes at a time.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "psql executable.") var psql = "/usr/bin/psql"
    @Option(help: "fitspng executable (Debian package fitspng).") var fitspng = "/usr/bin/fitspng"

    func validate() throws {
        guard !database.isEmpty else { throw ValidationError("give --database or set WSA_DATABASE") }
        guard size >= 64, frames > 0, jobs > 0 else { throw ValidationError("--size, --frames and --jobs must be positive") }
        guard night.count == 8, night.allSatisfy(\.isNumber) else { throw ValidationError("--night is YYYYMMDD") }
    }

    func run() async throws {
        let bin = URL(fileURLWithPath: binDir ?? (Bundle.main.executableURL?.deletingLastPathComponent().path ?? "."))
        func tool(_ name: String) -> String { bin.appendingPathComponent(name).path }
        let root = URL(fileURLWithPath: work).standardizedFileURL
        let sim = root.appendingPathComponent("sim")
        let runDir = root.appendingPathComponent("run")
        let fm = FileManager.default
        try? fm.removeItem(at: runDir)
        for d in ["out", "scratch"] {
            try fm.createDirectory(at: runDir.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        let out = runDir.appendingPathComponent("out")

        // 1. The night: simulated once, reused while the options are the same.
        let perPointing = try framesPerPointing(tool("wfcamsim"), out: out)
        let nPointings = pointings ?? max(1, Int((Double(frames) / Double(perPointing * (exposures ?? 1))).rounded()))
        let simArgs = ["--seed", "\(seed)", "--size", "\(size)", "--programmes", programmes, "--nights", night,
                       "--pointings", "\(nPointings)", "--exposures", "\(exposures ?? 1)"]
        try Self.simulate(tool("wfcamsim"), simArgs, into: sim, output: out.appendingPathComponent("wfcamsim"), prefix: "night      ")
        let nights = try fm.contentsOfDirectory(atPath: sim.path).filter { $0.range(of: #"^\d{8}_v\d+$"#, options: .regularExpression) != nil }
            .sorted().map { sim.appendingPathComponent($0) }
        var deliveredFiles: [URL] = []
        for n in nights {
            for name in try fm.contentsOfDirectory(atPath: n.path).sorted() { deliveredFiles.append(n.appendingPathComponent(name)) }
        }
        let images = deliveredFiles.filter { $0.lastPathComponent.hasSuffix("_sf_st.fit") }
        let deliveredBytes = deliveredFiles.reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
        print(String(format: "night      %d image frame(s) of 4×%d², %d file(s), %.0f MiB delivered", images.count, size,
                     deliveredFiles.count, Double(deliveredBytes) / 1_048_576))

        // 2. A fresh archive: database, load server and the CUs' environment (not timed).
        let archive = try await BenchArchive.start(cluster: database, sqlDir: sqlDir, runDirectory: runDir, delivery: sim,
                                                   daemon: tool("dbrpcserver"), label: "night")
        defer { archive.close(keep: keep) }
        let db = archive.db, conninfo = archive.conninfo

        // 3. cu1…cu4, one after another, as curate would run them.
        var cuSeconds: [String: Double] = [:], cuCPU: [String: Double] = [:]
        for cu in ["cu1", "cu2", "cu3", "cu4"] {
            let r = try archive.run(tool(cu), output: out.appendingPathComponent(cu))
            cuSeconds[cu] = r.seconds
            cuCPU[cu] = r.cpuSeconds
            print(String(format: "  %@ %7.2f s wall, %6.2f s CPU  %@", cu, r.seconds, r.cpuSeconds,
                         r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        func count(_ sql: String) throws -> Int { try db.queryValue(Int.self, PostgresQuery(unsafeSQL: sql)) }
        let transferred = try count("SELECT count(*) FROM TransferLog WHERE fileType IN ('image', 'conf', 'catalogue')")
        let transferredBytes = try count("SELECT coalesce(sum(fileSize), 0)::bigint FROM TransferLog")
        let jpegFrames = try count("SELECT count(DISTINCT transferID) FROM CompressedImage")
        let jpegs = try count("SELECT count(*) FROM CompressedImage")
        let multiframes = try count("SELECT count(*) FROM Multiframe")
        let detectors = try count("SELECT count(*) FROM MultiframeDetector")
        var tables: [(String, Int)] = []
        for row in try db.query(PostgresQuery(unsafeSQL:
            "SELECT detectionTable, sum(rowsLoaded)::bigint FROM CatalogueIngest GROUP BY 1 ORDER BY 1")) {
            tables.append((row.text(at: 0) ?? "", Int(try row.decode(Int64.self, at: 1))))
        }
        let detections = tables.reduce(0) { $0 + $1.1 }
        guard transferred > 0, jpegFrames == images.count, detections > 0 else {
            throw ValidationError("the chain did not do the whole night: \(transferred) transfers, \(jpegFrames) of \(images.count) frames with JPEGs, \(detections) detections")
        }

        // 4. The references, in the same run.
        let scratch = runDir.appendingPathComponent("scratch")
        let copyDir = scratch.appendingPathComponent("copy")
        try fm.createDirectory(at: copyDir, withIntermediateDirectories: true)
        let cp = try Self.runProgram("/bin/cp", ["-R"] + nights.map(\.path) + [copyDir.path], output: out.appendingPathComponent("cp"))
        guard cp.status == 0 else { throw ValidationError("cp failed: \(cp.stderr)") }
        try? fm.removeItem(at: copyDir)

        let (decodeSeconds, pixels, extensions) = try decode(images)
        let parts = try decodeAndEncode(images, encode: true)

        var psqlSeconds = 0.0, bareSeconds = 0.0, indexSeconds = 0.0
        for (table, rows) in tables where rows > 0 {
            let file = scratch.appendingPathComponent("\(table).pgcopy").path
            let copy = "bench_night_\(table.lowercased())"
            let dump = try Self.runProgram(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c",
                                                  "\\copy (SELECT * FROM \(table)) TO '\(file)' WITH (FORMAT binary)"],
                                           output: out.appendingPathComponent("psql-dump"))
            guard dump.status == 0 else { throw ValidationError("psql \\copy TO failed: \(dump.stderr)") }
            try db.execute(unsafeSQL: "DROP TABLE IF EXISTS \(copy); CREATE TABLE \(copy) (LIKE \(table) INCLUDING ALL); TRUNCATE \(copy)")
            let load = try Self.runProgram(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c",
                                                  "\\copy \(copy) FROM '\(file)' WITH (FORMAT binary)"],
                                           output: out.appendingPathComponent("psql-load"))
            guard load.status == 0 else { throw ValidationError("psql \\copy FROM failed: \(load.stderr)") }
            let n = try count("SELECT count(*) FROM \(copy)")
            guard n == rows else { throw ValidationError("psql loaded \(n) rows into \(copy), not \(rows)") }
            psqlSeconds += load.seconds
            try db.execute(unsafeSQL: "DROP TABLE \(copy)")
            // The bulk path the WSA used: into a table without its indexes, which are built after.
            try db.execute(unsafeSQL: "CREATE TABLE \(copy) (LIKE \(table) INCLUDING DEFAULTS)")
            let bare = try Self.runProgram(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c",
                                                  "\\copy \(copy) FROM '\(file)' WITH (FORMAT binary)"],
                                           output: out.appendingPathComponent("psql-bare"))
            guard bare.status == 0 else { throw ValidationError("psql \\copy into a bare table failed: \(bare.stderr)") }
            bareSeconds += bare.seconds
            let indexes = try db.query(PostgresQuery(unsafeSQL: """
                SELECT replace(pg_get_indexdef(indexrelid), ' ON public.\(table.lowercased()) ', ' ON \(copy) ')
                FROM pg_index WHERE indrelid = '\(table.lowercased())'::regclass
                """)).compactMap { $0.text(at: 0) }
            let indexStart = ContinuousClock.now
            for (i, definition) in indexes.enumerated() {
                try db.execute(unsafeSQL: definition.replacingOccurrences(of: "INDEX ", with: "INDEX \(copy)_\(i)_", options: [],
                                                                          range: definition.range(of: "INDEX ")))
            }
            indexSeconds += (ContinuousClock.now - indexStart).secondsValue
            try db.execute(unsafeSQL: "DROP TABLE \(copy)")
            try? fm.removeItem(atPath: file)
        }

        let (fitspngSeconds, pngs) = try pngAll(images, into: scratch.appendingPathComponent("png"))

        // 5. The table.
        let mib = Double(transferredBytes) / 1_048_576
        let cu4Rate = Double(detections) / cuSeconds["cu4"]!, psqlRate = Double(detections) / psqlSeconds
        print("night      \(images.count) frame(s) at 4×\(size)², \(detections) detections; cu wall time beside its reference, same run")
        print("| CU | wall s | what it did | reference | reference s | ratio |")
        print("| --- | ---: | --- | --- | ---: | ---: |")
        func row(_ cu: String, _ what: String, _ reference: String, _ seconds: Double?) {
            let s = cuSeconds[cu]!
            if let seconds {
                print(String(format: "| %@ | %.2f | %@ | %@ | %.2f | %.2f× |", cu, s, what, reference, seconds, s / seconds))
            } else {
                print(String(format: "| %@ | %.2f | %@ | %@ | — | — |", cu, s, what, reference))
            }
        }
        row("cu1", String(format: "%d files + marker, %.0f MiB transferred", transferred, mib),
            String(format: "`cp -R` of the night (%d files, no fsync)", deliveredFiles.count), cp.seconds)
        row("cu2", "\(jpegFrames) frames → \(jpegs) JPEGs + \(jpegs) thumbnails",
            String(format: "cfitsio decode of the %d extensions (%.0f Mpixel, %d threads)", extensions, Double(pixels) / 1e6, jobs),
            decodeSeconds)
        row("cu2", "(same run)", "fitspng: \(pngs) PNGs, one call per extension, \(jobs) at a time", fitspngSeconds)
        row("cu3", "\(multiframes) files (images + confidence maps), \(detectors) detectors", "none named", nil)
        row("cu4", String(format: "%d rows, %.0f rows/s", detections, cu4Rate),
            String(format: "`psql \\copy` binary into LIKE … INCLUDING ALL, %.0f rows/s", psqlRate), psqlSeconds)
        print(String(format: "cu4 bulk path: `psql \\copy` into a bare table (no keys or indexes) %.2f s (%.0f rows/s), "
                     + "then its primary key and indexes built %.2f s: %.2f s together, beside %.2f s into the indexed table",
                     bareSeconds, Double(detections) / bareSeconds, indexSeconds, bareSeconds + indexSeconds, psqlSeconds))
        let perExtension = 1000 / Double(max(1, extensions))
        print(String(format: "cu2 CPU per extension %.1f ms beside decode %.1f ms + libjpeg-turbo encode %.1f ms = %.1f ms: %.2f×",
                     cuCPU["cu2"]! * perExtension, parts.decodeCPU * perExtension, parts.encodeCPU * perExtension,
                     (parts.decodeCPU + parts.encodeCPU) * perExtension, cuCPU["cu2"]! / (parts.decodeCPU + parts.encodeCPU)))
        let total = ["cu1", "cu2", "cu3", "cu4"].reduce(0) { $0 + cuSeconds[$1]! }
        // The unavoidable parts: copying the bytes, decoding and encoding the pixels (on the
        // cores cu2 has), and loading the rows.
        let cores = Double(max(1, min(jobs, ProcessInfo.processInfo.activeProcessorCount)))
        let pixelWork = (parts.decodeCPU + parts.encodeCPU) / cores
        let unavoidable = cp.seconds + pixelWork + psqlSeconds
        print(String(format: "CU1–CU4 total %.2f s beside unavoidable parts %.2f s (copy %.2f + decode and encode %.2f on %.0f cores + \\copy %.2f): %.2f×",
                     total, unavoidable, cp.seconds, pixelWork, cores, psqlSeconds, total / unavoidable))
        // A peak night: 230 GB delivered (about 3 600 frames of 4×2048²), from this run's costs.
        let bytesPerFrame = Double(transferredBytes) / Double(images.count)
        let peakFrames = 230e9 / bytesPerFrame
        let scale = peakFrames / Double(images.count)
        print(String(format: "projection: a peak 230 GB night is %.0f frames at %.1f MB each; on this %d-core machine "
                     + "cu1 %.1f + cu2 %.1f + cu3 %.1f + cu4 %.1f = %.1f h (unavoidable parts %.1f h)",
                     peakFrames, bytesPerFrame / 1e6, ProcessInfo.processInfo.activeProcessorCount,
                     cuSeconds["cu1"]! * scale / 3600, cuSeconds["cu2"]! * scale / 3600, cuSeconds["cu3"]! * scale / 3600,
                     cuSeconds["cu4"]! * scale / 3600, total * scale / 3600, unavoidable * scale / 3600))

        if keep {
            print("kept: database \(archive.name), \(runDir.path)")
        } else {
            archive.close(keep: false)
            try? fm.removeItem(at: runDir)
        }
    }

    /// Image frames wfcamsim writes per pointing and exposure for --programmes (from --dry-run).
    func framesPerPointing(_ wfcamsim: String, out: URL) throws -> Int {
        let r = try Self.runProgram(wfcamsim, ["--out", "/nonexistent", "--dry-run", "--programmes", programmes,
                                               "--nights", night, "--pointings", "1", "--exposures", "1"],
                                    output: out.appendingPathComponent("wfcamsim-dry-run"))
        let n = r.stdout.split(separator: "\n").filter { $0.contains("_sf_st.fit") }.count
        guard r.status == 0, n > 0 else { throw ValidationError("wfcamsim --dry-run failed: \(r.stderr)") }
        return n
    }

    /// Reads every image extension of every file as float32, `jobs` files at a time.
    func decode(_ files: [URL]) throws -> (seconds: Double, pixels: Int, extensions: Int) {
        try decodeAndEncode(files, encode: false).decode
    }

    /// The unavoidable parts of cu2: every image extension decoded with cfitsio and, with
    /// `encode`, encoded as a quality-90 JPEG by libjpeg-turbo (of the zscale grey levels cu2
    /// encodes, made untimed), `jobs` threads. Returns the seconds of the
    /// decoding (wall, with `encode` false) and the CPU seconds of each part (summed over threads).
    func decodeAndEncode(_ files: [URL], encode: Bool)
        throws -> (decode: (seconds: Double, pixels: Int, extensions: Int), decodeCPU: Double, encodeCPU: Double) {
        let threads = CompressHandler.cfitsioIsReentrant ? min(jobs, files.count) : 1
        let totals = Totals()
        let cpu = Locked((decode: 0.0, encode: 0.0))
        @Sendable func threadCPU() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            var decodeCPU = 0.0, encodeCPU = 0.0
            for i in stride(from: worker, to: files.count, by: threads) {
                do {
                    let f = try FITSFile.open(files[i].path)
                    var pixels = 0, extensions = 0
                    for hdu in try f.hdus() where hdu.holdsImage {
                        let t0 = threadCPU()
                        _ = try f.moveTo(hdu: hdu.index)
                        let (_, dims) = try f.imageShape()
                        let data = try f.readPixels(as: Float.self)
                        decodeCPU += threadCPU() - t0
                        pixels += data.count
                        extensions += 1
                        guard encode, dims.count >= 2 else { continue }
                        // The grey levels cu2 encodes (zscale), untimed: the same pixels, the same entropy.
                        let grey = ImageStretch.greyLevels(data, width: dims[0], height: dims[1], stretch: .zscale,
                                                           orientation: .identity)
                        let t1 = threadCPU()
                        _ = try JPEGWriter.encode(grey: grey, width: dims[0], height: dims[1], quality: 90)
                        encodeCPU += threadCPU() - t1
                    }
                    try f.close()
                    totals.add(pixels, extensions)
                } catch {
                    totals.fail("\(files[i].lastPathComponent): \(error)")
                }
            }
            cpu.withLock { $0.decode += decodeCPU; $0.encode += encodeCPU }
        }
        let seconds = (ContinuousClock.now - start).secondsValue
        if let failure = totals.failure { throw ValidationError("decoding failed: \(failure)") }
        let spent = cpu.withLock { $0 }
        return ((seconds, totals.a, totals.b), spent.decode, spent.encode)
    }

    /// fitspng of every image extension (`file[N]`, N 0-based as cfitsio's extended syntax
    /// counts), `jobs` processes at a time; returns the wall time and the PNGs written.
    func pngAll(_ files: [URL], into directory: URL) throws -> (seconds: Double, pngs: Int) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var items: [(String, String)] = []
        for file in files {
            let f = try FITSFile.open(file.path)
            for hdu in try f.hdus() where hdu.holdsImage {
                let base = file.deletingPathExtension().lastPathComponent
                items.append(("\(file.path)[\(hdu.index - 1)]", directory.appendingPathComponent("\(base)_\(hdu.index).png").path))
            }
            try f.close()
        }
        let work = items
        let threads = min(jobs, work.count)
        let totals = Totals()
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for i in stride(from: worker, to: work.count, by: threads) {
                do {
                    let r = try Self.runProgram(fitspng, ["-o", work[i].1, work[i].0], output: nil)
                    if r.status == 0, FileManager.default.fileExists(atPath: work[i].1) {
                        totals.add(1, 0)
                    } else {
                        totals.fail("fitspng \(work[i].0) exited \(r.status): \(r.stderr)")
                    }
                } catch {
                    totals.fail("fitspng \(work[i].0): \(error)")
                }
            }
        }
        let seconds = (ContinuousClock.now - start).secondsValue
        if let failure = totals.failure { throw ValidationError(failure) }
        try? FileManager.default.removeItem(at: directory)
        return (seconds, totals.a)
    }

    /// Sums and the first failure, shared by worker threads.
    final class Totals: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var a = 0, b = 0
        private(set) var failure: String?
        func add(_ x: Int, _ y: Int) { lock.lock(); a += x; b += y; lock.unlock() }
        func fail(_ message: String) { lock.lock(); if failure == nil { failure = message }; lock.unlock() }
    }

    /// `cpuSeconds`: user + system time of the children reaped meanwhile (the program's own when
    /// nothing else runs at the same time).
    struct Ran { var status: Int32; var seconds: Double; var cpuSeconds: Double; var stdout: String; var stderr: String }

    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// Runs a program to its end, wall-timed; stdout and stderr go to `output`.out/.err (or to
    /// temporary files when nil) and are returned.
    static func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                           stdin: String? = nil, output: URL?) throws -> Ran {
        let fm = FileManager.default
        let base = output ?? fm.temporaryDirectory.appendingPathComponent("wsabench-\(getpid())-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        p.standardOutput = outHandle
        p.standardError = errHandle
        let input = Pipe()
        if stdin != nil { p.standardInput = input } else { p.standardInput = FileHandle.nullDevice }
        let cpuStart = childrenCPUSeconds()
        let start = ContinuousClock.now
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        p.waitUntilExit()
        let seconds = (ContinuousClock.now - start).secondsValue
        let cpuSeconds = childrenCPUSeconds() - cpuStart
        try outHandle.close()
        try errHandle.close()
        let ran = Ran(status: p.terminationStatus, seconds: seconds, cpuSeconds: cpuSeconds,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        if output == nil { try? fm.removeItem(at: outURL); try? fm.removeItem(at: errURL) }
        return ran
    }

    /// Simulates into `sim` with wfcamsim `arguments`, unless `sim` already holds that simulation
    /// (its COMPLETE.wsabench marker names the same arguments); prints which, after `prefix`.
    static func simulate(_ wfcamsim: String, _ arguments: [String], into sim: URL, output: URL, prefix: String) throws {
        let marker = sim.appendingPathComponent("COMPLETE.wsabench")
        let wanted = arguments.joined(separator: " ")
        if (try? String(contentsOf: marker, encoding: .utf8)) != wanted {
            try? FileManager.default.removeItem(at: sim)
            let r = try runProgram(wfcamsim, ["--out", sim.path, "--quiet", "--force"] + arguments, output: output)
            guard r.status == 0 else { throw ValidationError("wfcamsim failed: \(r.stderr)") }
            try wanted.write(to: marker, atomically: true, encoding: .utf8)
            print(String(format: "%@simulated in %.1f s: wfcamsim %@", prefix, r.seconds, wanted))
        } else {
            print("\(prefix)reusing \(sim.path): wfcamsim \(wanted)")
        }
    }

    /// Stops the daemon: SIGTERM, then SIGKILL after 10 s.
    static func stop(_ p: Process) {
        guard p.isRunning else { return }
        kill(p.processIdentifier, SIGTERM)
        for _ in 0..<200 where p.isRunning { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// `base` (keyword/value or URL) pointed at database `dbname`, as `user` when given.
    static func conninfo(_ base: String, dbname: String, user: String? = nil) throws -> String {
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://") {
            guard var url = URLComponents(string: base) else { throw ValidationError("cannot parse \(base)") }
            url.path = "/" + dbname
            if let user { url.user = user; url.password = nil }
            guard let text = url.string else { throw ValidationError("cannot rewrite \(base)") }
            return text
        }
        // In a keyword/value string the last occurrence of a keyword wins.
        return base + " dbname=" + dbname + (user.map { " user=" + $0 } ?? "")
    }
}
