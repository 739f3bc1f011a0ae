import ArgumentParser
import Wrappers

/// CU6: create spatial index attributes (seed 004 §7).
@main
struct CU6: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu6",
        abstract: "Give newly loaded detections and frames their spatial attributes.",
        discussion: """
            For every frame whose detections are loaded (CU4, CU14) but not yet indexed (per \
            programme): the unit vector cx, cy, cz and Galactic l, b of each detection and of the \
            frame's centre (CurrentAstrometry), computed on the load server next to the data by \
            curation.cu6_spatial, in atomic steps of --frames-per-step frames; SpatialIndexLog \
            records each frame. Merged sources and frame sets get theirs from CU8 as they are \
            made, with the same SQL functions. Positions are FK5 J2000; l and b follow astropy's \
            FK5 to Galactic transform. A frame whose positions change (CU11) is done again.
            Exit status: 0 done, 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Frames indexed per atomic step.")
    var framesPerStep = 200

    func run() async throws {
        try await CUContext.run(program: "cu6", cuID: 6, options: options) { [framesPerStep] ctx in
            var frames = 0, detections: Int64 = 0
            let found = try await ctx.forEachProgramme({ try ctx.query.framesToIndex(programmeID: $0.programmeID) },
                                                       describe: { "index \($0.fileName) (\($0.rows) detection(s))" }) { programme, pending in
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    try await ctx.step(programme: programme.name) { db, step in
                        detections += try await db.createSpatialAttributes(programmeID: programme.programmeID,
                                                                           frames: batch.map(\.multiframeID), in: step)
                    }
                    frames += batch.count
                    ctx.workDone(batch.count)
                }
            }
            return ctx.options.dryRun ? "cu6: would index \(found) frame(s)"
                : "cu6: indexed \(frames) frame(s): \(detections) detection(s) given cx, cy, cz, l, b"
        }
    }
}
