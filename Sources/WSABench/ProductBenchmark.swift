import ArgumentParser
import Curation
import FITS
import Foundation
import Postgres
import WrapperCore
import AppDriver
import Drivers
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// cu13 and cu14 on a simulated night, each beside the program that does its unavoidable part,
/// run bare on the same inputs with the same configuration in the same run: SWarp for the
/// stacks, source-extractor for their detections.
struct ProductBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "products",
        abstract: "cu13 beside bare SWarp and cu14 beside bare source-extractor, on a simulated night.",
        discussion: """
            Simulates one night of --pointings pointing(s) of --programme with wfcamsim into \
            --work/sim (kept and reused while the options are the same): --exposures frames of \
            each pointing in each passband, so one stack per passband and field. Makes a fresh \
            database on the cluster of --database, migrates it with --sql-dir, starts a \
            dbrpcserver on it and curates the night with cu1…cu4 (not timed). Then times, wall \
            clock, once each: cu13 (finding the frames, the plain copies, SWarp, the product \
            files, ingest, JPEGs, Provenance, rename) and cu14 (plain copies, source-extractor, \
            the catalogue, the load), the release binaries in --bin-dir.

            The references, in the same run, on the inputs cu13 used (from Provenance) and the \
            products it made, with the configuration files the CUs use: for every detector of \
            every product, the plain float32 copies of that detector of each input frame and of \
            its confidence map (with FLXSCALE, as StackDriver writes them) are made untimed, then \
            `SWarp @list -c stack.swarp` alone is timed; for every image extension of every \
            product, its plain copy and weight are made untimed, then `source-extractor` with \
            wsa.sex, wsa.param, the filter, the neural network and CatExDriver's command-line \
            values alone is timed, one extension at a time as cu14 runs them (and once more, \
            --jobs at a time, for comparison). The untimed preparations are measured on their \
            own and shown, with the products' JPEGs (CompressHandler.compressAll, as cu13 makes \
            them) and a rewrite of SWarp's output as product files, as where the overhead goes.

            Example: wsabench products --database "$WSA_DATABASE" --size 2048 --exposures 4
            """)

    @Option(help: "Admin conninfo of the cluster (a database wsabench_products_* is made and dropped).")
    var database = ProcessInfo.processInfo.environment["WSA_DATABASE"] ?? ""
    @Option(help: "Detector side in pixels.") var size = 2048
    @Option(help: "Frames of each pointing in each passband (the frames of one stack).") var exposures = 4
    @Option(help: "The wfcamsim programme (one of LAS, GPS, GCS, DXS, UDS).") var programme = "LAS"
    @Option(help: "wfcamsim pointings (one stack per passband each).") var pointings = 1
    @Option(help: "wfcamsim seed.") var seed = 7
    @Option(help: "The UT night (YYYYMMDD).") var night = "20051012"
    @Option(help: "Working directory: sim/ (kept), run/ (removed unless --keep).")
    var work = ".wsa/bench-products"
    @Flag(help: "Keep the database and run/ (archive, products, logs, scratch) afterwards.")
    var keep = false
    @Option(help: "Directory of cu1…cu4, cu13, cu14, dbrpcserver and wfcamsim (default: next to wsabench).")
    var binDir: String?
    @Option(help: "Schema migrations.") var sqlDir = "sql"
    @Option(help: "source-extractor processes at a time in the second (side by side) reference run.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "SWarp executable (default: as the CUs find it, WSAConfig.Tools.defaults).") var swarp: String?
    @Option(help: "source-extractor executable (default: as the CUs find it).") var sourceExtractor: String?

    func validate() throws {
        guard !database.isEmpty else { throw ValidationError("give --database or set WSA_DATABASE") }
        guard size >= 64, exposures >= 2, pointings > 0, jobs > 0 else {
            throw ValidationError("--size must be at least 64, --exposures at least 2 (a stack), --pointings and --jobs positive")
        }
        guard ["LAS", "GPS", "GCS", "DXS", "UDS"].contains(programme) else { throw ValidationError("--programme: one of LAS, GPS, GCS, DXS, UDS") }
        guard night.count == 8, night.allSatisfy(\.isNumber) else { throw ValidationError("--night is YYYYMMDD") }
    }

    func run() async throws {
        let bin = URL(fileURLWithPath: binDir ?? (Bundle.main.executableURL?.deletingLastPathComponent().path ?? "."))
        func tool(_ name: String) -> String { bin.appendingPathComponent(name).path }
        let driver = AppDriver()
        let swarpPath = try swarp ?? driver.locate(StackDriver.tool)
        let sexPath = try sourceExtractor ?? driver.locate(CatExDriver.tool)
        let root = URL(fileURLWithPath: work).standardizedFileURL
        let sim = root.appendingPathComponent("sim")
        let runDir = root.appendingPathComponent("run")
        let fm = FileManager.default
        try? fm.removeItem(at: runDir)
        for d in ["out", "scratch"] {
            try fm.createDirectory(at: runDir.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        let out = runDir.appendingPathComponent("out"), scratch = runDir.appendingPathComponent("scratch")

        // 1. The night: simulated once, reused while the options are the same.
        let simArgs = ["--seed", "\(seed)", "--size", "\(size)", "--programmes", programme, "--nights", night,
                       "--pointings", "\(pointings)", "--exposures", "\(exposures)"]
        try NightBenchmark.simulate(tool("wfcamsim"), simArgs, into: sim, output: out.appendingPathComponent("wfcamsim"),
                                    prefix: "products   ")

        // 2. A fresh archive; 3. cu1…cu4 (not timed), then cu13 and cu14 (timed).
        let archive = try await BenchArchive.start(cluster: database, sqlDir: sqlDir, runDirectory: runDir, delivery: sim,
                                                   daemon: tool("dbrpcserver"), label: "products")
        defer { archive.close(keep: keep) }
        for cu in ["cu1", "cu2", "cu3", "cu4"] {
            let r = try archive.run(tool(cu), output: out.appendingPathComponent(cu))
            print(String(format: "  %@  %7.2f s (not timed) %@", cu, r.seconds, r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        var ours: [String: NightBenchmark.Ran] = [:]
        let loadBefore = Self.loadAverage()
        for cu in ["cu13", "cu14"] {
            let r = try archive.run(tool(cu), output: out.appendingPathComponent(cu))
            ours[cu] = r
            print(String(format: "  %@ %7.2f s wall, %6.2f s CPU  %@", cu, r.seconds, r.cpuSeconds,
                         r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let products = try archive.products()
        let detections = try archive.detections(of: products)
        guard !products.isEmpty, detections > 0 else {
            throw ValidationError("cu13/cu14 did not do the work: \(products.count) products, \(detections) detections")
        }

        // 4. The references, in the same run, on the same files.
        var stack = StackReference(), catex = CatExReference()
        for product in products {
            try stack.add(product, swarp: swarpPath, scratch: scratch.appendingPathComponent("swarp"), out: out)
        }
        for product in products {
            try catex.add(product, sourceExtractor: sexPath, scratch: scratch.appendingPathComponent("catex"), out: out)
        }
        let sideBySide = try catex.runSideBySide(sourceExtractor: sexPath, jobs: jobs, out: out)
        let jpeg = try Self.jpegs(of: products, into: scratch.appendingPathComponent("jpeg"))

        // 5. The tables.
        let cu13 = ours["cu13"]!, cu14 = ours["cu14"]!
        let frames = Set(products.flatMap { $0.inputs.map(\.image) }).count
        print("products   \(products.count) product(s) of \(frames) frame(s) at 4×\(size)², \(detections) detections; load average \(loadBefore) before cu13, \(Self.loadAverage()) after the references")
        print("| CU | wall s | CPU s | what it did | reference | reference s | ref. CPU s | overhead wall | overhead CPU |")
        print("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |")
        func percent(_ ours: Double, _ theirs: Double) -> String { String(format: "%+.0f %%", 100 * (ours / theirs - 1)) }
        print(String(format: "| cu13 | %.2f | %.1f | %d stacks (%d co-adds of %d frames), ingest, JPEGs | `SWarp @list -c stack.swarp`, %d runs on prepared plain copies | %.2f | %.1f | %@ | %@ |",
                     cu13.seconds, cu13.cpuSeconds, products.count, stack.runs, exposures, stack.runs,
                     stack.seconds, stack.cpuSeconds, percent(cu13.seconds, stack.seconds), percent(cu13.cpuSeconds, stack.cpuSeconds)))
        print(String(format: "| cu14 | %.2f | %.1f | %d extensions → %d detections loaded | `source-extractor -c wsa.sex`, %d runs one at a time, %d rows | %.2f | %.1f | %@ | %@ |",
                     cu14.seconds, cu14.cpuSeconds, catex.runs, detections, catex.runs, catex.rows,
                     catex.seconds, catex.cpuSeconds, percent(cu14.seconds, catex.seconds), percent(cu14.cpuSeconds, catex.cpuSeconds)))
        print(String(format: "| cu14 | | | (same run) | the same runs, %d at a time | %.2f | | %@ | |",
                     jobs, sideBySide, percent(cu14.seconds, sideBySide)))

        print("Where the overhead goes (each part measured on its own in this process, the rest by difference):")
        print("| part | wall s | CPU s |")
        print("| --- | ---: | ---: |")
        func part(_ what: String, _ c: Cost) { print(String(format: "| %@ | %.2f | %.1f |", what, c.wall, c.cpu)) }
        let over13 = Cost(wall: cu13.seconds - stack.seconds, cpu: cu13.cpuSeconds - stack.cpuSeconds)
        part("**cu13 − SWarp**", over13)
        part("plain copies of the inputs (decompress, float32 image + weight, FLXSCALE)", stack.copy)
        part("reading SWarp's output, writing float32 image + int16 confidence, checksums, fsync (approximation)", stack.write)
        part("JPEGs + thumbnails of the products (CompressHandler.compressAll)", jpeg)
        part("rest: sky statistics, headers, hashes, ingest, Provenance, start-up, noise",
             over13 - stack.copy - stack.write - jpeg)
        let over14 = Cost(wall: cu14.seconds - catex.seconds, cpu: cu14.cpuSeconds - catex.cpuSeconds)
        part("**cu14 − source-extractor**", over14)
        part("plain copies of the extensions and their weights", catex.copy)
        part("rest: catalogue reading, aperture corrections, transaction files, load, start-up, noise", over14 - catex.copy)

        if keep {
            print("kept: database \(archive.name), \(runDir.path)")
        } else {
            archive.close(keep: false)
            try? fm.removeItem(at: runDir)
        }
    }

    /// The 1-minute load average, to tell a quiet machine from a busy one.
    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? String(format: "%.2f", loads[0]) : "?"
    }

    /// JPEG and thumbnail of every image extension of the products, as cu13's ingest makes them.
    static func jpegs(of products: [BenchArchive.Product], into directory: URL) throws -> Cost {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let start = Cost.now()
        for product in products {
            _ = try CompressHandler.compressAll(product.image.path, jpegs: { hdu in
                (directory.appendingPathComponent("\(product.id)_\(hdu).jpg"),
                 directory.appendingPathComponent("\(product.id)_\(hdu)_thumb.jpg"))
            })
        }
        return Cost.now() - start
    }
}

/// Wall and CPU seconds of work done in this process (CPU: user + system of all its threads,
/// from `getrusage(RUSAGE_SELF)`; nothing else runs in it meanwhile).
struct Cost {
    var wall = 0.0, cpu = 0.0

    /// Since an arbitrary origin: only differences mean something.
    static func now() -> Cost {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Cost(wall: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9, cpu: s(usage.ru_utime) + s(usage.ru_stime))
    }

    static func - (a: Cost, b: Cost) -> Cost { Cost(wall: a.wall - b.wall, cpu: a.cpu - b.cpu) }
    static func + (a: Cost, b: Cost) -> Cost { Cost(wall: a.wall + b.wall, cpu: a.cpu + b.cpu) }
    static func += (a: inout Cost, b: Cost) { a = a + b }
}

/// The SWarp reference: every co-add cu13 made, made again by SWarp alone from plain copies
/// prepared beforehand (their preparation and a rewrite of the output timed apart).
struct StackReference {
    private(set) var runs = 0
    private(set) var seconds = 0.0, cpuSeconds = 0.0
    /// Making the plain copies SWarp reads (not in `seconds`): wall and CPU.
    private(set) var copy = Cost()
    /// Reading SWarp's output and writing it as product files (not in `seconds`).
    private(set) var write = Cost()

    mutating func add(_ product: BenchArchive.Product, swarp: String, scratch: URL, out: URL) throws {
        let fm = FileManager.default
        let frames = StackDriver.ordered(try product.inputs.map { try StackInput(image: $0.image, confidence: $0.confidence) })
        guard let reference = frames.first else { throw ValidationError("\(product.image.path) has no inputs in Provenance") }
        let config = try StackDriver.configurationDirectory().appendingPathComponent(product.kind == "mosaic" ? "mosaic.swarp" : "stack.swarp")
        let sets: [[(frame: StackInput, detector: StackInput.Detector)]] = product.kind == "mosaic"
            ? [frames.flatMap { f in f.detectors.map { (f, $0) } }]
            : reference.detectors.indices.map { k in frames.map { ($0, $0.detectors[k]) } }
        for parts in sets {
            let directory = scratch.appendingPathComponent("run\(runs + 1)")
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? fm.removeItem(at: directory) }
            let refDetector = product.kind == "mosaic" ? reference.detectors[0] : parts[0].detector
            let zeroPoint = refDetector.zeroPoint(airmass: reference.airmass)
            var names: [String] = []
            let copyStart = Cost.now()
            for (i, part) in parts.enumerated() {
                let image = directory.appendingPathComponent(String(format: "in%05d.fits", i + 1))
                let scale = reference.expTime / part.frame.expTime * pow(10, 0.4 * (zeroPoint - part.detector.zeroPoint(airmass: part.frame.airmass)))
                _ = try PlainFITS.copy(part.frame.image.path, hdu: part.detector.hdu, to: image) { header in
                    var header = PlainFITS.carriedOver(header)
                    header.set("FLXSCALE", .double(scale), comment: "Flux scale to the reference zero point")
                    return header
                }
                _ = try PlainFITS.copy(part.frame.confidence.path, hdu: part.detector.hdu,
                                       to: directory.appendingPathComponent(String(format: "in%05d.weight.fits", i + 1))) { _ in FITSHeader() }
                names.append(image.path)
            }
            let list = directory.appendingPathComponent("inputs.lis")
            try (names.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
            copy += Cost.now() - copyStart

            let coadd = directory.appendingPathComponent("coadd.fits"), weight = directory.appendingPathComponent("coadd.weight.fits")
            let r = try NightBenchmark.runProgram(swarp, ["@" + list.path, "-c", config.path,
                                                          "-IMAGEOUT_NAME", coadd.path, "-WEIGHTOUT_NAME", weight.path,
                                                          "-RESAMPLE_DIR", directory.path, "-VMEM_DIR", directory.path],
                                                  output: out.appendingPathComponent("swarp"))
            guard r.status == 0, fm.fileExists(atPath: coadd.path) else {
                throw ValidationError("SWarp exited \(r.status) on \(directory.path): \(r.stderr)")
            }
            runs += 1
            seconds += r.seconds
            cpuSeconds += r.cpuSeconds

            let writeStart = Cost.now()
            try PlainFITS.writeProductLike(coadd: coadd, weight: weight, into: directory)
            write += Cost.now() - writeStart
        }
    }
}

/// The source-extractor reference: every image extension cu14 extracted, extracted again by
/// source-extractor alone from a plain copy and weight prepared beforehand.
struct CatExReference {
    struct Job { var arguments: [String]; var catalogue: URL }
    private(set) var jobs: [Job] = []
    private(set) var seconds = 0.0, cpuSeconds = 0.0
    /// Making the plain copies and weights (not in `seconds`).
    private(set) var copy = Cost()
    private(set) var rows = 0
    var runs: Int { jobs.count }

    mutating func add(_ product: BenchArchive.Product, sourceExtractor: String, scratch: URL, out: URL) throws {
        let fm = FileManager.default
        let config = try CatExDriver.configurationDirectory()
        func file(_ name: String) -> String { config.appendingPathComponent(name).path }
        let hdus: [Int] = try {
            let f = try FITSFile.open(product.image.path)
            defer { try? f.close() }
            return try f.hdus().filter { $0.holdsImage && ($0.dimensions?.count ?? 0) == 2 }.map(\.index)
        }()
        for hdu in hdus {
            let directory = scratch.appendingPathComponent("p\(product.id)_\(hdu)")
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            let image = directory.appendingPathComponent("image.fits"), weight = directory.appendingPathComponent("weight.fits")
            let copyStart = Cost.now()
            let (header, primary) = try PlainFITS.copy(product.image.path, hdu: hdu, to: image) { header in
                FITSHeader(PlainFITS.carriedOver(header).cards.filter { $0.keyword != "GAIN" })
            }
            _ = try PlainFITS.copy(product.confidence.path, hdu: hdu, to: weight) { _ in FITSHeader() }
            func value(_ key: String) -> Double? {
                (header.double(key) ?? primary.double(key)).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            }
            if let gain = value("GAIN") {  // as CatExDriver: GAIN × NICOMB
                let f = try FITSFile.open(image.path, mode: .readWrite)
                try f.setKey("GAIN", .double(gain * (value("NICOMB") ?? 1)), comment: "[e-/ADU] effective gain, GAIN x NICOMB")
                try f.close()
            }
            copy += Cost.now() - copyStart
            let cd = ["CD1_1", "CD1_2", "CD2_1", "CD2_2"].map { header.double($0) ?? 0 }
            let det = abs(cd[0] * cd[3] - cd[1] * cd[2])
            let scale = det > 0 ? det.squareRoot() * 3600 : 0.4
            let zeroPoint = (header.double("MAGZPT") ?? 25) + 2.5 * log10(value("EXP_TIME") ?? 1)
            let catalogue = directory.appendingPathComponent("catalogue.fits")
            var arguments = [
                image.path, "-c", file(CatExDriver.configurationFile),
                "-PARAMETERS_NAME", file(CatExDriver.parameterFile), "-FILTER_NAME", file(CatExDriver.filterFile),
                "-STARNNW_NAME", file(CatExDriver.neuralNetworkFile), "-CATALOG_NAME", catalogue.path,
                "-CATALOG_TYPE", "FITS_1.0", "-MAG_ZEROPOINT", String(format: "%.6f", zeroPoint),
                "-PHOT_APERTURES", CatExDriver.apertureDiameters.map { String(format: "%.6f", $0) }.joined(separator: ","),
                "-PIXEL_SCALE", String(format: "%.6f", scale),
            ]
            if let seeing = value("SEEING") { arguments += ["-SEEING_FWHM", String(format: "%.6f", seeing * scale)] }
            arguments += ["-WEIGHT_TYPE", "MAP_WEIGHT", "-WEIGHT_IMAGE", weight.path]
            let job = Job(arguments: arguments, catalogue: catalogue)
            let r = try NightBenchmark.runProgram(sourceExtractor, job.arguments, output: out.appendingPathComponent("source-extractor"))
            guard r.status == 0 else { throw ValidationError("source-extractor exited \(r.status) on \(image.path): \(r.stderr)") }
            seconds += r.seconds
            cpuSeconds += r.cpuSeconds
            rows += try PlainFITS.tableRows(catalogue)
            jobs.append(job)
        }
    }

    /// The same runs again, `jobs` at a time (the plain copies are still there); wall seconds.
    func runSideBySide(sourceExtractor: String, jobs threads: Int, out: URL) throws -> Double {
        let work = jobs
        let totals = NightBenchmark.Totals()
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: min(threads, work.count)) { worker in
            for i in stride(from: worker, to: work.count, by: threads) {
                do {
                    let r = try NightBenchmark.runProgram(sourceExtractor, work[i].arguments, output: nil)
                    if r.status == 0 { totals.add(1, 0) } else { totals.fail("source-extractor exited \(r.status): \(r.stderr)") }
                } catch {
                    totals.fail("source-extractor: \(error)")
                }
            }
        }
        let seconds = (ContinuousClock.now - start).secondsValue
        if let failure = totals.failure { throw ValidationError(failure) }
        for job in work { try? FileManager.default.removeItem(at: job.catalogue.deletingLastPathComponent()) }
        return seconds
    }
}

/// Plain (uncompressed float32, single-image) FITS files, as the wrappers give the external tools.
enum PlainFITS {
    /// Copies image HDU `hdu` of `path` to `destination` as float32 with `header(source header)`;
    /// returns the source HDU's header and the primary header.
    static func copy(_ path: String, hdu: Int, to destination: URL,
                     header: (FITSHeader) -> FITSHeader) throws -> (FITSHeader, FITSHeader) {
        let f = try FITSFile.open(path)
        defer { try? f.close() }
        _ = try f.moveTo(hdu: 1)
        let primary = try f.header()
        _ = try f.moveTo(hdu: hdu)
        let source = try f.header()
        let dims = try f.imageShape().dimensions
        let pixels = try f.readPixels(as: Float.self)
        let out = try FITSFile.create(destination.path, overwrite: true)
        try out.createImage(bitpix: .float32, dimensions: dims)
        try out.setKeys(header(source))
        try out.writePixels(pixels)
        try out.close()
        return (source, primary)
    }

    /// The cards worth carrying to a plain copy (as Wrappers' PlainCopy), without FLXSCALE.
    static func carriedOver(_ header: FITSHeader) -> FITSHeader {
        FITSHeader(header.cards.filter { PlainCopy.keep($0) && $0.keyword.uppercased() != "FLXSCALE" })
    }

    /// What cu13 does with one co-add after SWarp, roughly: reads image and weight, writes a
    /// float32 image and an int16 confidence map (weights scaled to a median of 100) with
    /// checksums, and syncs both files. For attributing cu13's overhead only.
    static func writeProductLike(coadd: URL, weight: URL, into directory: URL) throws {
        let f = try FITSFile.open(coadd.path)
        let dims = try f.imageShape().dimensions
        let header = carriedOver(try f.header())
        let pixels = try f.readPixels(as: Float.self)
        try f.close()
        let w = try FITSFile.open(weight.path)
        let weights = try w.readPixels(as: Float.self)
        try w.close()
        var positive = weights.filter { $0 > 0 }
        let median: Float = positive.isEmpty ? 1 : RobustStatistics.median(&positive)
        let conf = weights.map { Int16(clamping: Int(($0 / median * 100).rounded())) }
        let image = directory.appendingPathComponent("product.fit"), confidence = directory.appendingPathComponent("product_conf.fit")
        for (url, write) in [(image, { (o: FITSFile) in
            try o.createImage(bitpix: .float32, dimensions: dims); try o.setKeys(header); try o.writePixels(pixels)
        }), (confidence, { (o: FITSFile) in
            try o.createImage(bitpix: .int16, dimensions: dims); try o.setKeys(header); try o.writePixels(conf)
        })] {
            let o = try FITSFile.create(url.path, overwrite: true)
            try o.createImage(bitpix: .uint8, dimensions: [])
            try write(o)
            try o.writeChecksum()
            try o.close()
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { _ = fsync(fd); close(fd) }
        }
    }

    /// Rows of the first table of a FITS catalogue.
    static func tableRows(_ url: URL) throws -> Int {
        let f = try FITSFile.open(url.path)
        defer { try? f.close() }
        return try f.hdus().first { $0.rows != nil }?.rows ?? 0
    }
}
