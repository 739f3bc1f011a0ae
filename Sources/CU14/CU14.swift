import ArgumentParser
import Wrappers

/// CU14: create the standard source detection list of new stacks and mosaics (seed 004 §7).
@main
struct CU14: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu14",
        abstract: "Extract sources from new stacks and mosaics into the programmes' Detection tables.",
        discussion: """
            For every current stack or mosaic whose detections are not loaded yet: \
            source-extractor runs on each image extension with the configuration files kept \
            with the programs (Resources/source-extractor), weighted by the product's \
            confidence map and calibrated with its zero point (MAGZPT at the reference frame's \
            airmass) and per-exposure pixel values; aperture corrections come from the \
            product's own bright isolated stars. The rows go into the programme's Detection \
            table linked to the product (its multiframeID, whose frameType says stack or \
            mosaic), with a CatalogueIngest row, one atomic step per product.
            Exit status: 0 done, 1 failure (a product that could not be extracted fails the run \
            after the others are done), 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @OptionGroup var tools: ToolOptions

    func run() async throws {
        try await CUContext.run(program: "cu14", cuID: 14, options: options) { [tools] ctx in
            var tally = ProductTally()
            var rows = 0, uncorrected = 0
            try ctx.finishCommittedProducts()
            let found = try await ctx.forEachProgramme({ try ctx.query.productsToExtract(programmeID: $0.programmeID) },
                                                       describe: { "extract the sources of \($0.fileName) into \($0.detectionTable)" }) { programme, pending in
                try await ctx.forEachProduct(pending, into: &tally, describe: { "extracting \($0.fileName)" }) { product in
                    let (n, noCorrection) = try await Self.extract(product, programme: programme, ctx: ctx,
                                                                   timeout: tools.timeout)
                    rows += n
                    uncorrected += noCorrection
                }
            }
            try tally.check(program: "cu14", noun: "product(s)' sources")
            if ctx.options.dryRun { return "cu14: would extract the sources of \(found) product(s)" }
            let note = uncorrected > 0 ? "; \(uncorrected) extension(s) had too few bright stars for aperture corrections" : ""
            return "cu14: extracted the sources of \(tally.done) product(s): \(rows) detection(s)\(note)"
        }
    }

    /// Extracts every extension of `product` and loads the detections in one step; returns the
    /// rows loaded and how many extensions had no aperture correction.
    static func extract(_ product: PendingExtraction, programme: ProgrammeInfo, ctx: CUContext, timeout: Duration) async throws
        -> (Int, Int)
    {
        try await ctx.withScratchDirectory { scratch in
            let catalogues = try await ctx.extractSources(of: product, timeout: timeout, workDirectory: scratch)
            var rows = 0
            try await ctx.step(programme: programme.name) { db, step in
                rows = try await ctx.loadDetections(catalogues, of: product, db: db, step: step)
            }
            ctx.note("cu14: \(rows) detection(s) of \(product.fileName) loaded into \(product.detectionTable)")
            return (rows, catalogues.filter { !$0.catalogue.hasApertureCorrection }.count)
        }
    }
}
