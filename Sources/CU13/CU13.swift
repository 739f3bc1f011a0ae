import ArgumentParser
import Wrappers

/// CU13: create library stacked and mosaiced image products (seed 004 §7).
@main
struct CU13: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu13",
        abstract: "Stack and mosaic the frames each programme's prescription asks for.",
        discussion: """
            For each passband of a programme's prescription (RequiredStack): the current frames \
            not yet in their field's stack (or the passband's mosaic) are found; the product is \
            made by SWarp, weighted by the confidence maps, with a confidence map of its own — a \
            new one, or the existing one made again with the new frames added (a new version; \
            the one it replaces is deprecated). Each product is written as NAME.part, ingested \
            (Multiframe, MultiframeDetector, CurrentAstrometry for it and its confidence map), \
            given its JPEGs, its inputs recorded in Provenance, in one atomic step, and renamed \
            to NAME once the step has committed.
            Exit status: 0 done, 1 failure (a product that could not be made fails the run after \
            the others are done), 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @OptionGroup var tools: ToolOptions

    func run() async throws {
        try await CUContext.run(program: "cu13", cuID: 13, options: options) { [tools] ctx in
            var tally = ProductTally()
            var frames = 0
            let found = try await ctx.makeProducts({ try ctx.query.findNonStacked(programmeID: $0.programmeID) },
                                                   describe: \.description, inputs: \.inputs, into: &tally) { programme, product in
                try await Self.make(product, programme: programme, ctx: ctx, timeout: tools.timeout)
                frames += product.inputs.count
            }
            try tally.check(program: "cu13", noun: "stack(s)/mosaic(s)")
            if ctx.options.dryRun { return "cu13: would make \(found) stack(s)/mosaic(s)" }
            return "cu13: made \(tally.done) stack(s)/mosaic(s) of \(frames) frame(s); \(tally.setAside) bad input file(s) set aside"
        }
    }

    static func make(_ product: PendingProduct, programme: ProgrammeInfo, ctx: CUContext, timeout: Duration) async throws {
        let made = try ctx.planProduct(product.kind, programme: programme, stem: product.stem(programme: programme),
                                       filterID: product.filterID, supersedes: product.superseded)
        let (existing, new) = try product.stackInputs()
        try await ctx.makeProduct(made, programme: programme) { made, driver, scratch in
            let result = product.kind == .mosaic
                ? try await StackDriver.addToMosaic(existing: existing, new: new, to: made.partImage, confidence: made.partConfidence,
                                                    appDriver: driver, workDirectory: scratch, timeout: timeout)
                : try await StackDriver.addToStack(existing: existing, new: new, to: made.partImage, confidence: made.partConfidence,
                                                   appDriver: driver, workDirectory: scratch, timeout: timeout)
            return product.multiframeIDs(inOrderOf: result.inputs)  // Provenance: the reference frame first
        }
        ctx.note("cu13: made \(made.imagePath) from \(product.inputs.count) frame(s) (\(product.newFrames) new)")
    }
}
