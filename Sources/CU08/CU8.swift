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
                merged += sessions > 1
                    ? try await Self.merge(programme, pending, sessions: sessions, perStep: frameSetsPerStep, ctx: ctx)
                    : try await Self.merge(programme, pending, perStep: frameSetsPerStep, ctx: ctx)
                let counts = try ctx.query.mergedCatalogueCounts(programmeID: programme.programmeID)
                summary.append("\(programme.name) \(counts.frameSets) frame set(s), \(counts.sources) source(s), \(counts.seamless) seamless")
            }
            return ctx.options.dryRun ? "cu8: would merge \(found) frame set(s)"
                : "cu8: merged \(merged) frame set(s)" + (summary.isEmpty ? "" : ": " + summary.joined(separator: "; "))
        }
    }

    /// One session: each step merges its frame sets and seams them (the whole sky); a seaming
    /// left by an earlier run goes with the first step, or is a step of its own.
    static func merge(_ programme: ProgrammeInfo, _ pending: [FrameSetToMerge], perStep: Int, ctx: CUContext)
        async throws -> Int64
    {
        let toMerge = pending.filter { !$0.seamOnly }
        var merged: Int64 = 0
        for batch in CUContext.batches(toMerge, of: perStep) {
            var done: Int64 = 0
            try await ctx.step(programme: programme.name) { db, step in
                done = try await db.mergeFrameSets(programmeID: programme.programmeID, count: batch.count, in: step)
            }
            merged += done
            ctx.workDone(Int(done))
        }
        if toMerge.isEmpty {
            try await ctx.step(programme: programme.name) { db, step in
                _ = try await db.mergeFrameSets(programmeID: programme.programmeID, count: 0, ipix: DbHandler.wholeSky,
                                                seam: true, in: step)
            }
        }
        ctx.workDone(pending.count - toMerge.count)
        return merged
    }

    /// `sessions` sessions: the ranges' merges at once, then the marks across their boundaries
    /// alone, then the ranges' seams at once.
    static func merge(_ programme: ProgrammeInfo, _ pending: [FrameSetToMerge], sessions: Int, perStep: Int,
                      ctx: CUContext) async throws -> Int64
    {
        let id = programme.programmeID
        let ranges = FrameSetToMerge.ipixRanges(pending, parts: sessions)
        _ = try await ctx.db()  // the lease, before the sessions start
        var merged = try await withThrowingTaskGroup(of: Int64.self) { group in
            for range in ranges {
                let share = pending.filter { !$0.seamOnly && range.contains($0.ipix) }
                guard !share.isEmpty else { continue }
                group.addTask {
                    var total: Int64 = 0
                    for batch in CUContext.batches(share, of: perStep) {
                        var done: Int64 = 0
                        try await ctx.step(programme: programme.name) { db, step in
                            done = try await db.mergeFrameSets(programmeID: id, count: batch.count, ipix: range, seam: false,
                                                               in: step)
                        }
                        total += done
                        ctx.workDone(Int(done))
                    }
                    return total
                }
            }
            var sum: Int64 = 0
            for try await n in group { sum += n }
            return sum
        }
        // What a range did not take (a centre on its edge computed a hair apart): the whole sky.
        let left = try ctx.query.frameSetsToMerge(programmeID: id).filter { !$0.seamOnly }
        for batch in CUContext.batches(left, of: perStep) {
            var done: Int64 = 0
            try await ctx.step(programme: programme.name) { db, step in
                done = try await db.mergeFrameSets(programmeID: id, count: batch.count, ipix: DbHandler.wholeSky, seam: false,
                                                   in: step)
            }
            merged += done
            ctx.workDone(Int(done))
        }
        try await ctx.step(programme: programme.name) { db, step in
            _ = try await db.markSeams(programmeID: id, in: step)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for range in ranges {
                group.addTask {
                    try await ctx.step(programme: programme.name) { db, step in
                        _ = try await db.seamSources(programmeID: id, ipix: range, in: step)
                    }
                }
            }
            try await group.waitForAll()
        }
        ctx.workDone(pending.filter(\.seamOnly).count)
        return merged
    }
}
