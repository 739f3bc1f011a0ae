import ArgumentParser
import Wrappers

/// CU5: create library H2−K difference image products (seed 004 §7).
@main
struct CU5: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu5",
        abstract: "Make continuum-subtracted H2 − K difference images of the programmes that ask for them.",
        discussion: """
            For each pair of passbands a programme's prescription asks to difference \
            (RequiredDiff: GPS H2 − K), every current line (H2) frame without a current \
            difference image is paired with the continuum (K) frame of its field nearest in \
            time; DiaDriver resamples K onto the H2 grid with SWarp, matches the seeing, scales \
            it by the ratio of their zero points and subtracts it, detector by detector, with a \
            propagated confidence map. Each difference image is written as NAME.part, ingested \
            as frame type diff (with its confidence map, JPEGs and Provenance: the H2 frame \
            first, then K) in one atomic step, and renamed once the step has committed.
            Exit status: 0 done, 1 failure (a pair that could not be differenced fails the run \
            after the others are done), 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @OptionGroup var tools: ToolOptions

    func run() async throws {
        try await CUContext.run(program: "cu5", cuID: 5, options: options) { [tools] ctx in
            var tally = ProductTally()
            let found = try await ctx.makeProducts({ try ctx.query.diffsToMake(programmeID: $0.programmeID) },
                                                   describe: \.description, inputs: { [$0.line, $0.continuum] }, into: &tally) { programme, pair in
                try await Self.make(pair, programme: programme, ctx: ctx, timeout: tools.timeout)
            }
            try tally.check(program: "cu5", noun: "difference image(s)")
            return ctx.options.dryRun ? "cu5: would make \(found) difference image(s)" : "cu5: made \(tally.done) difference image(s); \(tally.setAside) bad input file(s) set aside"
        }
    }

    static func make(_ pair: PendingDiff, programme: ProgrammeInfo, ctx: CUContext, timeout: Duration) async throws {
        let made = try ctx.planProduct(.diff, programme: programme, stem: pair.stem, filterID: pair.line.filterID,
                                       inputs: [pair.line.multiframeID, pair.continuum.multiframeID], supersedes: pair.superseded)
        let (line, continuum) = (try pair.line.stackInput(), try pair.continuum.stackInput())
        try await ctx.makeProduct(made, programme: programme) { made, driver, scratch in
            _ = try await DiaDriver.makeDiffImage(h2: line, k: continuum, to: made.partImage, confidence: made.partConfidence,
                                                  appDriver: driver, workDirectory: scratch, timeout: timeout)
            return nil
        }
        ctx.note("cu5: made \(made.imagePath)")
    }
}
