import ArgumentParser
import Wrappers

/// CU8: create/update merged source catalogues (seed 004 §7; Hambly et al. 2008 §5).
@main
struct CU8: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu8",
        abstract: "Merge each programme's passbands into its source table, one row per object.",
        discussion: """
            Per programme, as its Programme and RequiredFilters rows prescribe: groups the \
            detector frames of the required passbands into frame sets (centres within \
            frameSetTolerance; the deepest stack of a band observed once, the n-th night of a band \
            observed n times), pairs their detections band to band (mutual nearest neighbours \
            within pairingCriterion), and writes <prog>MergeLog (one row per frame set version) and \
            <prog>Source (magnitudes, colours, offsets, merged class) with the seaming flag \
            priOrSec, so that (priOrSec = 0 OR priOrSec = frameSetID) selects every object once. \
            Only frame sets whose frames changed are merged again: the old version is deprecated \
            and its sources replaced in the same atomic step. The work runs on the load server \
            (curation.cu8_merge), --frame-sets-per-step frame sets per step.
            With --sessions N the due frame sets are divided into N ranges of the q3c ipix of \
            their centres, merged at once on N load-server sessions (each range's steps one after \
            another); the seaming across the ranges' boundaries follows: one step marks the sources \
            near a boundary, then the N ranges are seamed at once (docs/scale.md). Sources not \
            seamed yet keep priOrSec = -99999999; a run killed before its seams leaves them due.
            Exit status: 0 done, 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Frame sets merged per atomic step.")
    var frameSetsPerStep = 500

    @Option(help: "Load-server sessions merging at once, each a range of q3c ipix (1: one step after another).")
    var sessions = 1

    func validate() throws {
        guard frameSetsPerStep > 0 else { throw ValidationError("--frame-sets-per-step must be positive") }
        guard (1...16).contains(sessions) else { throw ValidationError("--sessions must be 1 to 16") }
    }

    func run() async throws {
        try await CUContext.run(program: "cu8", cuID: 8, options: options) { [frameSetsPerStep, sessions] ctx in
            var merged: Int64 = 0
            var summary: [String] = []
            let found = try await ctx.forEachProgramme({ try ctx.query.frameSetsToMerge(programmeID: $0.programmeID) },
                                                       describe: { $0.description }) { programme, pending in
                merged += try await ctx.mergeFrameSets(programme, pending, sessions: sessions, perStep: frameSetsPerStep)
                let counts = try ctx.query.mergedCatalogueCounts(programmeID: programme.programmeID)
                summary.append("\(programme.name) \(counts.frameSets) frame set(s), \(counts.sources) source(s), \(counts.seamless) seamless")
            }
            return ctx.options.dryRun ? "cu8: would merge \(found) frame set(s)"
                : "cu8: merged \(merged) frame set(s)" + (summary.isEmpty ? "" : ": " + summary.joined(separator: "; "))
        }
    }
}
