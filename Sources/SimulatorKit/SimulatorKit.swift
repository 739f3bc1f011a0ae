import FITS
public import Foundation
import SystemSupport

/// What to simulate (the options of `wfcamsim`).
public struct SimulationConfig: Sendable {
    /// Where the night directories, `truth/` and `external/` go.
    public var outputDirectory: URL
    /// Seed of every random stream: same seed, same bytes.
    public var seed: UInt64 = 1
    /// Detector side in pixels (2048 for WFCAM; small values for tests).
    public var detectorSize: Int = 2048
    public var programmes: [Programme] = Programme.allCases
    public var nights: [Night] = [Night("20051012")!, Night("20061013")!]
    /// Overlapping pointings per programme, and repeats of each pointing per night.
    public var pointings: Int = 2
    public var exposures: Int = 2
    /// Damaged files to add (kinds cycle through `CorruptionKind`).
    public var corrupt: Int = 0
    /// Multiplies every programme's star density (and the cluster, brown-dwarf and H2-knot counts).
    public var starDensity: Double = 1
    /// Multiplies every programme's galaxy density.
    public var galaxyDensity: Double = 1
    /// Frames written at once (threads).
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Replace night directories that already exist.
    public var overwrite: Bool = false

    public init(outputDirectory: URL) { self.outputDirectory = outputDirectory }

    /// Checks the values; throws `SimulationError.invalidConfiguration` naming the bad one.
    public func validate() throws {
        func bad(_ m: String) -> SimulationError { .invalidConfiguration(m) }
        guard (32...8192).contains(detectorSize) else { throw bad("--size must be between 32 and 8192 pixels, got \(detectorSize)") }
        guard !programmes.isEmpty else { throw bad("no programmes given") }
        guard !nights.isEmpty else { throw bad("no nights given") }
        guard Set(nights).count == nights.count else { throw bad("a night is given twice") }
        guard (1...100).contains(pointings) else { throw bad("--pointings must be 1…100, got \(pointings)") }
        guard (1...50).contains(exposures) else { throw bad("--exposures must be 1…50, got \(exposures)") }
        guard (0...1000).contains(corrupt) else { throw bad("--corrupt must be 0…1000, got \(corrupt)") }
        guard starDensity > 0, starDensity <= 1000 else { throw bad("--star-density must be in (0, 1000], got \(starDensity)") }
        guard galaxyDensity >= 0, galaxyDensity <= 1000 else { throw bad("--galaxy-density must be in [0, 1000], got \(galaxyDensity)") }
        guard jobs >= 1 else { throw bad("--jobs must be at least 1") }
    }
}

/// Why a simulation failed.
public enum SimulationError: Error, CustomStringConvertible, Sendable {
    case invalidConfiguration(String)
    case outputExists(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return m
        case .outputExists(let p): return "\(p) already exists (use --force to replace it)"
        case .io(let m): return m
        }
    }
}

/// What a run wrote.
public struct SimulationSummary: Sendable {
    public var frames: Int
    public var corruptFiles: Int
    public var files: Int
    public var bytes: Int
    public var nights: Int
    public var sources: Int
    public var seconds: Double
    public var truthDirectory: URL
}

/// Writes WFCAM-like nights the way CASU delivers them (see docs/simulator.md): per night a
/// `YYYYMMDD_v1/` directory with Rice-compressed image and confidence MEFs and 80-column
/// catalogues, a `COMPLETE` marker written last; truth tables under `truth/` and a 2MASS-like
/// catalogue under `external/`.
public final class Simulator: Sendable {
    public let config: SimulationConfig
    public let plan: ObservationPlan

    public init(config: SimulationConfig) throws {
        try config.validate()
        self.config = config
        self.plan = ObservationPlan(config: config)
    }

    /// The sky of every programme (deterministic from the seed, size and pointings).
    public func populations() -> [SkyPopulation] {
        let plane = FocalPlane(size: config.detectorSize)
        return config.programmes.map {
            SkyPopulation(programme: $0, seed: config.seed, focalPlane: plane, pointings: config.pointings,
                          starScale: config.starDensity, galaxyScale: config.galaxyDensity)
        }
    }

    /// Runs the simulation. `progress(done, total)` is called after each frame (from any thread).
    @discardableResult
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SimulationSummary {
        let started = Date()
        let fm = FileManager.default
        let out = config.outputDirectory
        do {
            try fm.createDirectory(at: out, withIntermediateDirectories: true)
        } catch {
            throw SimulationError.io("cannot create \(out.path): \(error.localizedDescription)")
        }
        for night in config.nights {
            let dir = out.appendingPathComponent(night.directoryName)
            if fm.fileExists(atPath: dir.path) {
                guard config.overwrite else { throw SimulationError.outputExists(dir.path) }
                try fm.removeItem(at: dir)
            }
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        let truthDir = out.appendingPathComponent("truth"), externalDir = out.appendingPathComponent("external")
        try fm.createDirectory(at: truthDir, withIntermediateDirectories: true)
        try fm.createDirectory(at: externalDir, withIntermediateDirectories: true)

        let plane = FocalPlane(size: config.detectorSize)
        // Set-up work runs on every core too: populations, detector defects, confidence maps.
        let pops = concurrentMap(config.programmes, jobs: config.jobs) {
            SkyPopulation(programme: $0, seed: self.config.seed, focalPlane: plane, pointings: self.config.pointings,
                          starScale: self.config.starDensity, galaxyScale: self.config.galaxyDensity)
        }.map { try! $0.get() }  // the body cannot throw
        let defects = concurrentMap(Array(1...4), jobs: config.jobs) {
            DetectorDefects(camnum: $0, size: self.config.detectorSize, seed: self.config.seed)
        }.map { try! $0.get() }
        let jitters = Set(plan.frames.map(\.njitter)).sorted()
        let pairs = jitters.flatMap { nj in defects.map { (nj, $0) } }
        let maps = concurrentMap(pairs, jobs: config.jobs) { $0.1.confidence(njitter: $0.0) }.map { try! $0.get() }
        var confidence: [Int: [[Int16]]] = [:]
        for (k, pair) in pairs.enumerated() { confidence[pair.0, default: []].append(maps[k]) }
        // Night-mean zero points per band over the good frames' detectors.
        var zps: [String: [Double]] = [:]
        for f in plan.frames where f.corruption == nil {
            for cam in 1...4 {
                let c = DetectorConditions(frame: f, camnum: cam, seed: config.seed, pixelScale: plane.pixelScale)
                zps["\(f.night)/\(f.passband.rawValue)", default: []].append(c.zeroPoint)
            }
        }
        let nightZPs = zps.mapValues { v -> (mean: Double, rms: Double, count: Int) in
            let mean = v.reduce(0, +) / Double(v.count)
            let rms = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(v.count - 1, 1))).squareRoot()
            return (mean, rms, v.count)
        }
        let context = FrameContext(config: config, plane: plane, defects: defects, confidence: confidence,
                                   populations: Dictionary(uniqueKeysWithValues: pops.map { ($0.programme, $0) }),
                                   nightZeroPoints: nightZPs)

        // Frames in parallel: each worker takes the next frame; every frame has its own streams,
        // so the bytes do not depend on which thread wrote it.
        let frames = plan.frames
        let done = Locked(0)
        let outcomes = concurrentMap(frames, jobs: config.jobs) { frame in
            let result = try FrameWriter.write(frame, context: context)
            progress?(done.withLock { $0 += 1; return $0 }, frames.count)
            return result
        }
        var results: [FrameResult] = []
        for (frame, outcome) in zip(frames, outcomes) {
            do {
                results.append(try outcome.get())
            } catch {
                throw SimulationError.io("\(frame.imageName): \(error)")
            }
        }

        // Truth, external catalogue, corruption record; then the COMPLETE markers, last.
        try writeTruth(frames: frames, results: results, populations: pops, to: truthDir)
        try TwoMASSCatalogue(populations: pops, seed: config.seed).write(to: externalDir)
        var corruptLines = ["file,kind,expected_problem"]
        for (f, r) in zip(frames, results) {
            guard let kind = f.corruption else { continue }
            let damaged = kind == .catalogueWithoutImage ? r.files.last! : r.files.first!
            corruptLines.append("\(damaged),\(kind.rawValue),\"\(kind.expectedProblem)\"")
        }
        try TableWriter.writeAtomically(corruptLines.joined(separator: "\n") + "\n",
                                        to: truthDir.appendingPathComponent("corrupt.csv").path)
        for night in config.nights {
            var lines: [String] = []
            for (f, r) in zip(frames, results) where f.night == night {
                for file in r.files {
                    let size = (try? FrameWriter.fileSize(out.appendingPathComponent(file).path)) ?? 0
                    lines.append("\((file as NSString).lastPathComponent) \(size)")
                }
            }
            let text = "# wfcamsim delivery \(night.directoryName): \(lines.count) files (name bytes)\n"
                + lines.joined(separator: "\n") + "\n"
            try TableWriter.writeAtomically(text, to: out.appendingPathComponent(night.directoryName)
                .appendingPathComponent("COMPLETE").path)
        }
        let good = frames.filter { $0.corruption == nil }.count
        return SimulationSummary(frames: good, corruptFiles: frames.count - good,
                                 files: results.reduce(0) { $0 + $1.files.count },
                                 bytes: results.reduce(0) { $0 + $1.bytes }, nights: config.nights.count,
                                 sources: pops.reduce(0) { $0 + $1.sources.count },
                                 seconds: Date().timeIntervalSince(started), truthDirectory: truthDir)
    }

    /// `truth/sources`, `truth/frames` (one row per source drawn on a detector) and
    /// `truth/detectors` (one row per frame detector), each as FITS and CSV.
    func writeTruth(frames: [FrameSpec], results: [FrameResult], populations: [SkyPopulation], to dir: URL) throws {
        let all = populations.flatMap(\.sources)
        func mags(_ b: Passband) -> TableColumn {
            .float("mag_\(b.rawValue)", all.map { Float($0.mag(b)) }, unit: "mag")
        }
        let sourceColumns: [TableColumn] = [
            .int64("id", all.map(\.id)),
            .string("programme", all.map(\.programme.rawValue), width: 3),
            .string("type", all.map(\.type.rawValue), width: 6),
            .string("subtype", all.map(\.subtype), width: 10),
            .double("ra", all.map(\.ra), unit: "deg"),
            .double("dec", all.map(\.dec), unit: "deg"),
            .double("pmra", all.map(\.pmRA), unit: "mas/yr"),
            .double("pmdec", all.map(\.pmDec), unit: "mas/yr"),
        ] + Passband.allCases.map(mags) + [
            .float("sersic_n", all.map { Float($0.sersicIndex) }),
            .float("r_eff", all.map { Float($0.effectiveRadius) }, unit: "arcsec"),
            .float("axis_ratio", all.map { Float($0.axisRatio) }),
            .float("pa", all.map { Float($0.positionAngle) }, unit: "deg"),
        ]
        let epochCard = [FITSCard("REFEPOCH", .double(2000.0), comment: "[yr] Epoch of the positions"),
                         FITSCard("SEED", .string(String(config.seed)), comment: "wfcamsim --seed")]
        try TableWriter.writeBoth(directory: dir, name: "sources", extname: "SOURCES", columns: sourceColumns,
                                  keywords: epochCard)

        var file: [String] = [], ext: [Int16] = [], sid: [Int64] = [], xs: [Double] = [], ys: [Double] = []
        var flux: [Double] = [], mag: [Float] = [], type: [String] = [], filter: [String] = []
        var dFile: [String] = [], dExt: [Int16] = [], dNight: [String] = [], dProg: [String] = []
        var dFilter: [String] = [], dPointing: [Int16] = [], dExposure: [Int16] = [], dMJD: [Double] = []
        var dEpoch: [Double] = [], dExp: [Float] = [], dAirmass: [Float] = [], dSeeing: [Float] = []
        var dZP: [Float] = [], dExt2: [Float] = [], dSky: [Float] = [], dNoise: [Float] = []
        var dMSky: [Float] = [], dMNoise: [Float] = [], dApcor: [Float] = [], dRows: [Int32] = [], dDrawn: [Int32] = []
        for (f, r) in zip(frames, results) where f.corruption == nil {
            let name = f.night.directoryName + "/" + f.imageName
            for (k, hits) in r.hits.enumerated() {
                for h in hits {
                    file.append(name); ext.append(Int16(k + 1)); sid.append(h.sourceID)
                    xs.append(h.x); ys.append(h.y); flux.append(h.flux); mag.append(Float(h.mag))
                    type.append(h.type.rawValue); filter.append(f.passband.rawValue)
                }
                let d = r.detectors[k]
                dFile.append(name); dExt.append(Int16(k + 1)); dNight.append(f.night.description)
                dProg.append(f.programme.rawValue); dFilter.append(f.passband.rawValue)
                dPointing.append(Int16(f.pointing + 1)); dExposure.append(Int16(f.exposure + 1))
                dMJD.append(f.mjdStart); dEpoch.append(f.epoch); dExp.append(Float(f.expTime))
                dAirmass.append(Float(f.airmass)); dSeeing.append(Float(d.seeing)); dZP.append(Float(d.zeroPoint))
                dExt2.append(Float(f.passband.extinction)); dSky.append(Float(d.skyLevel)); dNoise.append(Float(d.skyNoise))
                dMSky.append(Float(d.measuredSkyLevel)); dMNoise.append(Float(d.measuredSkyNoise))
                dApcor.append(Float(d.apcor3)); dRows.append(Int32(d.catalogueRows)); dDrawn.append(Int32(d.sourcesDrawn))
            }
        }
        let frameColumns: [TableColumn] = [
            .string("file", file, width: 40), .int16("extension", ext), .int64("source_id", sid),
            .double("x", xs, unit: "pixel"), .double("y", ys, unit: "pixel"),
            .double("flux", flux, unit: "ADU"), .float("mag", mag, unit: "mag"),
            .string("type", type, width: 6), .string("filter", filter, width: 2),
        ]
        try TableWriter.writeBoth(directory: dir, name: "frames", extname: "FRAMESOURCES", columns: frameColumns)
        let detectorColumns: [TableColumn] = [
            .string("file", dFile, width: 40), .int16("extension", dExt), .string("night", dNight, width: 8),
            .string("programme", dProg, width: 3), .string("filter", dFilter, width: 2),
            .int16("pointing", dPointing), .int16("exposure", dExposure), .double("mjd", dMJD, unit: "d"),
            .double("epoch", dEpoch, unit: "yr"), .float("exp_time", dExp, unit: "s"),
            .float("airmass", dAirmass), .float("seeing", dSeeing, unit: "pixel"),
            .float("magzpt", dZP, unit: "mag"), .float("extinct", dExt2, unit: "mag"),
            .float("sky_level", dSky, unit: "ADU"), .float("sky_noise", dNoise, unit: "ADU"),
            .float("measured_sky_level", dMSky, unit: "ADU"), .float("measured_sky_noise", dMNoise, unit: "ADU"),
            .float("apcor3", dApcor, unit: "mag"), .int32("catalogue_rows", dRows), .int32("sources_drawn", dDrawn),
        ]
        try TableWriter.writeBoth(directory: dir, name: "detectors", extname: "DETECTORS", columns: detectorColumns)
    }
}
