import ArgumentParser
import Wrappers

/// CU3: ingest details of image products (seed 004 §7).
@main
struct CU3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu3",
        abstract: "Ingest the metadata of newly transferred images and confidence maps.",
        discussion: """
            For every current image (with its JPEGs from CU2) and confidence map in TransferLog \
            not yet in Multiframe (per programme): Multiframe, MultiframeDetector and \
            CurrentAstrometry rows from the headers (frame type, programme, filter, MJD, exposure, \
            file path, size, checksum, version, JPEG paths, confidence map link, per-detector \
            seeing and zero point, the WCS and the sky footprint), through transaction files, in \
            atomic steps of --frames-per-step. A new version of a file deprecates the frames of \
            the earlier versions in the same step. A file with a bad header is reported, \
            quarantined and skipped.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Files ingested per atomic step.")
    var framesPerStep = 50

    func run() async throws {
        try await CUContext.run(program: "cu3", cuID: 3, options: options) { [framesPerStep] ctx in
            var ingested = 0, detectors = 0, deprecated = 0, bad = 0
            let found = try await ctx.forEachProgramme({ FrameIngest.ingestOrder(try ctx.query.framesToIngest(programmeID: $0.programmeID)) },
                                                       describe: { "ingest \($0.fileName) (\($0.fileType), version \($0.version))" }) { programme, pending in
                let ingest = try ctx.frameIngest(programme)
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    var frames = FrameBatch()
                    try await ctx.step(programme: programme.name) { db, step in
                        let ids = try await db.reserveIDs("Multiframe", count: batch.count)
                        frames = try ingest.prepare(batch, ids: ids, cuEventID: step.cuEventID) { ctx.workDone() }
                        try await db.loadFrames(frames, in: step)
                    }
                    try ctx.moveQuarantined(frames.quarantined)
                    ingested += frames.frames.count
                    detectors += frames.detectors
                    deprecated += frames.superseded.count
                    bad += frames.quarantined.count
                }
            }
            let verb = ctx.options.dryRun ? "would ingest" : "ingested"
            return "cu3: \(verb) \(ctx.options.dryRun ? found : ingested) file(s) (\(detectors) detector(s)); "
                + "\(deprecated) earlier version(s) deprecated; \(bad) bad file(s) quarantined"
        }
    }
}
