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
                // The next batch's catalogues are read while this one loads.
                try await ctx.pipelined(CUContext.batches(pending, of: framesPerStep, rampUp: true), prepare: DetectionIngest.read) { batch, read in
                    var good: [FrameDetections] = [], quarantine: [QuarantineRecord] = []
                    for (frame, result) in zip(batch, read) {
                        switch result {
                        case .success(let detections): good.append(detections)
                        case .failure(let error) where CUContext.isBadInput(error):
                            ctx.reportBadFile(error, file: frame.catName)
                            quarantine.append(QuarantineRecord(catalogueOf: frame, reason: error, layout: ctx.layout))
                        case .failure(let error): throw error
                        }
                    }
                    try await ctx.step(programme: programme.name) { db, step in  // one COPY for the step's detections
                        if let file = try DetectionIngest.transactionData(good, cuEventID: step.cuEventID, into: db.transactionDirectory) {
                            rows += try await db.loadAll([file], in: step)
                        }
                        try await db.logCatalogueIngest(good.map(\.ingestRecord), in: step)
                        try await db.logQuarantine(quarantine, in: step)
                    }
                    try ctx.moveQuarantined(quarantine)
                    ctx.workDone(batch.count)
                    steps += 1
                    frames += good.count
                    bad += quarantine.count
                }
            }
            let verb = ctx.options.dryRun ? "would load" : "loaded"
            return "cu4: \(verb) the catalogues of \(ctx.options.dryRun ? found : frames) frame(s): \(rows) detection(s) in \(steps) step(s); \(bad) bad file(s) quarantined"
        }
    }
}
