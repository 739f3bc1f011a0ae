import ArgumentParser
import Wrappers

/// CU4: ingest single-frame source detections (seed 004 §7).
@main
struct CU4: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu4",
        abstract: "Ingest single-frame source detections from the CASU catalogues.",
        discussion: """
            For every ingested frame whose catalogue is not loaded yet (per programme): each \
            catalogue extension becomes rows of the programme's Detection table, linked to its \
            MultiframeDetector row, with RA/Dec recomputed from x, y through the header WCS and \
            calibrated magnitudes. Frames are committed in steps of --frames-per-step, each step \
            atomic. A bad catalogue is reported, quarantined and skipped; the rest goes on.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Catalogues loaded per atomic step.")
    var framesPerStep = 25

    func run() async throws {
        try await CUContext.run(program: "cu4", cuID: 4, options: options) { ctx in
            var frames = 0, rows = 0, bad = 0, steps = 0
            let found = try await ctx.forEachProgramme({ try ctx.query.cataloguesToIngest(programmeID: $0.programmeID) },
                                                       describe: { "load \($0.catName) into \($0.detectionTable)" }) { programme, pending in
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    var loaded: [CatalogueIngestRecord] = []
                    var quarantine: [QuarantineRecord] = []
                    try await ctx.step(programme: programme.name) { db, step in
                        let prepared = await DetectionIngest.prepare(batch, cuEventID: step.cuEventID, into: db.transactionDirectory)
                        for (frame, files) in zip(batch, prepared) {  // loaded in order
                            do {
                                let n = try await db.loadAll(try files.get(), in: step)
                                rows += n
                                loaded.append(CatalogueIngestRecord(multiframeID: frame.multiframeID, catName: frame.catName,
                                                                    detectionTable: frame.detectionTable, rowsLoaded: Int64(n)))
                            } catch where CUContext.isBadInput(error) {
                                ctx.reportBadFile(error, file: frame.catName)
                                quarantine.append(QuarantineRecord(catalogueOf: frame, reason: error, layout: ctx.layout))
                            }
                            ctx.workDone()
                        }
                        try await db.logCatalogueIngest(loaded, in: step)
                        try await db.logQuarantine(quarantine, in: step)
                    }
                    try ctx.moveQuarantined(quarantine)
                    steps += 1
                    frames += loaded.count
                    bad += quarantine.count
                }
            }
            let verb = ctx.options.dryRun ? "would load" : "loaded"
            return "cu4: \(verb) the catalogues of \(ctx.options.dryRun ? found : frames) frame(s): \(rows) detection(s) in \(steps) step(s); \(bad) bad file(s) quarantined"
        }
    }

    /// The detection transaction files of a frame's catalogue, one per extension.
}
