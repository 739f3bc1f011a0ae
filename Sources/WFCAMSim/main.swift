import ArgumentParser
import Curation
import Foundation
import SimulatorKit

/// `wfcamsim`: writes simulated WFCAM nights exactly as CASU delivers them.
struct WFCAMSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wfcamsim",
        abstract: "Write simulated WFCAM nights the way CASU delivers them, with truth tables.",
        discussion: """
            For every night, writes DIR/YYYYMMDD_v1/ holding per observation a Rice-compressed \
            image MEF (wYYYYMMDD_NNNNN_sf_st.fit), its confidence map (…_conf.fit) and its \
            80-column CASU catalogue (…_cat.fits), then a COMPLETE marker. Truth tables of every \
            source and of every source drawn on every detector go to DIR/truth/, a 2MASS-like \
            catalogue to DIR/external/twomass.fits. Output depends only on the options: the same \
            seed gives the same bytes.

            Example (a small test night, 256-pixel detectors, two programmes, two damaged files):
              wfcamsim --out /tmp/sim --size 256 --programmes LAS,GPS --nights 20051012 \\
                       --pointings 2 --exposures 2 --corrupt 2 --seed 7

            Exit status: 0 on success, 64 for bad options, 1 when writing failed.
            """,
        version: WSAVersion.current)

    @Option(name: .long, help: ArgumentHelp("Output directory (created if missing).", valueName: "dir"))
    var out: String

    @Option(name: .long, help: "Seed of every random stream (same seed, same files).")
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("Detector side in pixels (WFCAM: 2048); the layout scales with it.", valueName: "pixels"))
    var size: Int = 2048

    @Option(name: .long, help: ArgumentHelp("Programmes, comma-separated: LAS, GPS, GCS, DXS, UDS.", valueName: "list"))
    var programmes: String = "LAS,GPS,GCS,DXS,UDS"

    @Option(name: .long, help: ArgumentHelp("UT nights, comma-separated YYYYMMDD (default 20051012,20061013).", valueName: "list"))
    var nights: String?

    @Option(name: .long, help: ArgumentHelp("First night (YYYYMMDD), with --night-count and --night-step instead of --nights.", valueName: "YYYYMMDD"))
    var startNight: String?

    @Option(name: .long, help: "Number of nights from --start-night.")
    var nightCount: Int = 2

    @Option(name: .long, help: ArgumentHelp("Days between nights from --start-night.", valueName: "days"))
    var nightStep: Int = 365

    @Option(name: .long, help: "Overlapping pointings per programme.")
    var pointings: Int = 2

    @Option(name: .long, help: "Exposures of each pointing and passband per night (for stacks).")
    var exposures: Int = 2

    @Option(name: .long, help: "Damaged files to add (truncated, bad header, no WCS, unknown project, catalogue without image).")
    var corrupt: Int = 0

    @Option(name: .long, help: ArgumentHelp("Multiplier of every programme's star density.", valueName: "factor"))
    var starDensity: Double = 1

    @Option(name: .long, help: ArgumentHelp("Multiplier of every programme's galaxy density (0: no galaxies).", valueName: "factor"))
    var galaxyDensity: Double = 1

    @Option(name: .long, help: "Frames written in parallel (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Replace night directories that already exist.")
    var force = false

    @Flag(name: .long, help: "Print the observations that would be written, write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "No progress bar and no summary line.")
    var quiet = false

    func makeConfig() throws -> SimulationConfig {
        var config = SimulationConfig(outputDirectory: URL(fileURLWithPath: out))
        config.seed = seed
        config.detectorSize = size
        var progs: [Programme] = []
        for name in programmes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let p = Programme(name: name) else {
                throw ValidationError("unknown programme '\(name)' (known: LAS, GPS, GCS, DXS, UDS)")
            }
            if !progs.contains(p) { progs.append(p) }
        }
        config.programmes = progs
        if let nights {
            guard startNight == nil else { throw ValidationError("give either --nights or --start-night, not both") }
            config.nights = try nights.split(separator: ",").map {
                guard let n = Night(String($0)) else { throw ValidationError("'\($0)' is not a night (YYYYMMDD)") }
                return n
            }
        } else if let startNight {
            guard let first = Night(startNight) else { throw ValidationError("'\(startNight)' is not a night (YYYYMMDD)") }
            guard (1...1000).contains(nightCount) else { throw ValidationError("--night-count must be 1…1000") }
            guard nightStep >= 1 else { throw ValidationError("--night-step must be at least 1 day") }
            config.nights = (0..<nightCount).map { first.adding(days: $0 * nightStep) }
        }
        config.pointings = pointings
        config.exposures = exposures
        config.corrupt = corrupt
        config.starDensity = starDensity
        config.galaxyDensity = galaxyDensity
        config.jobs = jobs
        config.overwrite = force
        do {
            try config.validate()
        } catch let e as SimulationError {
            throw ValidationError(e.description)
        }
        return config
    }

    func run() throws {
        let config = try makeConfig()
        let simulator: Simulator
        do {
            simulator = try Simulator(config: config)
        } catch {
            throw ValidationError("\(error)")
        }
        if dryRun {
            for f in simulator.plan.frames {
                let note = f.corruption.map { "  [damaged: \($0.rawValue)]" } ?? ""
                print("\(f.night.directoryName)/\(f.imageName)  \(f.programme.rawValue) \(f.passband.rawValue) "
                      + "pointing \(f.pointing + 1) exposure \(f.exposure + 1)\(note)")
            }
            return
        }
        let bar = ProgressBar(unit: "frames", quiet: quiet)
        let summary: SimulationSummary
        do {
            summary = try simulator.run { done, total in bar.update(done, total) }
        } catch {
            bar.finish()
            FileHandle.standardError.write(Data("wfcamsim: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        bar.finish()
        if !quiet {
            let mb = Double(summary.bytes) / 1_048_576
            let rate = Double(summary.frames + summary.corruptFiles) / max(summary.seconds, 1e-9)
            let damaged = summary.corruptFiles > 0 ? " including \(summary.corruptFiles) damaged frame(s)" : ""
            print(String(format: "wfcamsim: wrote %d frames (%d files%@, %.1f MB) for %d night(s) under %@ in %.1f s (%.2f frames/s); %d sources; truth in %@",
                         summary.frames, summary.files, damaged, mb, summary.nights, config.outputDirectory.path,
                         summary.seconds, rate, summary.sources, summary.truthDirectory.path))
        }
    }
}

WFCAMSim.main()
