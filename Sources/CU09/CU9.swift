import ArgumentParser
import Wrappers

/// CU9: produce list-driven measurements between WFCAM passbands (seed 004 §7).
@main
struct CU9: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu9",
        abstract: "Measure every merged source in the passbands where it has no detection.",
        discussion: """
            For every frame set CU8 made or changed and not yet list-processed (per programme): \
            at the position of each merged source that lacks a band (every source, where \
            RequiredListDrivenProduct says measureAll), forced aperture photometry on that band's \
            frame of the frame set (CatExDriver.measureSources: the prescribed aperture, an \
            annulus sky, calibrated on the frame's own catalogue stars). Writes \
            <prog>ListRemeasurement (one row per frame and position) and <prog>SourceRemeasurement \
            (per source and band: the forced magnitude where there is one, else the detection's), \
            and sets MergeLog listProc<B>, in atomic steps of --frame-sets-per-step frame sets.
            Exit status: 0 done, 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Frame sets remeasured per atomic step.")
    var frameSetsPerStep = 50

    func run() async throws {
        try await CUContext.run(program: "cu9", cuID: 9, options: options) { [frameSetsPerStep] ctx in
            var frameSets = 0, positions = 0
            var sources: Int64 = 0
            let found = try await ctx.forEachProgramme({ try ctx.query.frameSetsToRemeasure(programmeID: $0.programmeID) },
                                                       describe: { "remeasure frame set \($0)" }) { programme, pending in
                let table = try ctx.query.listRemeasurementTable(programmeID: programme.programmeID)
                for batch in CUContext.batches(pending, of: frameSetsPerStep) {
                    let frames = try ctx.query.remeasurementFrames(programme: programme, frameSetIDs: batch)
                    let measured = try await ctx.measureSources(frames)
                    try await ctx.step(programme: programme.name) { db, step in
                        sources += try await db.loadRemeasurements(measured, into: table, programmeID: programme.programmeID,
                                                                   frameSets: batch, in: step)
                    }
                    frameSets += batch.count
                    positions += measured.count
                    ctx.workDone(batch.count)
                }
            }
            return ctx.options.dryRun ? "cu9: would remeasure \(found) frame set(s)"
                : "cu9: remeasured \(frameSets) frame set(s): \(positions) forced measurement(s), \(sources) source(s) in SourceRemeasurement"
        }
    }
}
