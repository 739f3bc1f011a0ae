import ArgumentParser
import Foundation
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

    @Option(help: "Seconds source-extractor may run on one extension before it is stopped.")
    var toolTimeout: Double = 3600

    func run() async throws {
        try await CUContext.run(program: "cu14", cuID: 14, options: options) { [toolTimeout] ctx in
            var products = 0, rows = 0, failed: [String] = []
            var uncorrected = 0
            if !ctx.options.dryRun { try ctx.sweepProductFiles(removeUncommitted: false) }
            let found = try await ctx.forEachProgramme({ try ctx.query.productsToExtract(programmeID: $0.programmeID) },
                                                       describe: { "extract the sources of \($0.fileName) into \($0.detectionTable)" }) { programme, pending in
                let driver = AppDriver(config: ctx.config)
                for product in pending {
                    do {
                        let (n, noCorrection) = try await Self.extract(product, programme: programme, ctx: ctx, driver: driver,
                                                                       timeout: .seconds(toolTimeout))
                        rows += n
                        uncorrected += noCorrection
                        products += 1
                    } catch where CUContext.isProductProblem(error) {
                        ctx.logger.error("cu14: \(product.fileName): \(error)")
                        failed.append("\(error)")
                    }
                    ctx.progress.advance()
                }
            }
            if !failed.isEmpty {
                throw WrapperError(.failed, tool: "cu14", "\(failed.count) product(s) could not be extracted (\(products) done): \(failed[0])")
            }
            let verb = ctx.options.dryRun ? "would extract" : "extracted"
            let note = uncorrected > 0 ? "; \(uncorrected) extension(s) had too few bright stars for aperture corrections" : ""
            return "cu14: \(verb) the sources of \(ctx.options.dryRun ? found : products) product(s): \(rows) detection(s)\(note)"
        }
    }

    /// Extracts every extension of `product` and loads the detections in one step; returns the
    /// rows loaded and how many extensions had no aperture correction.
    static func extract(_ product: PendingExtraction, programme: ProgrammeInfo, ctx: CUContext, driver: AppDriver,
                        timeout: Duration) async throws -> (Int, Int) {
        try await ctx.withScratchDirectory { scratch in
            var catalogues: [(Int16, ExtractedCatalogue)] = []
            for (extNum, zeroPoint) in product.extensions.sorted(by: { $0.key < $1.key }) {
                let catalogue = try await CatExDriver.extractSources(
                    image: product.fileName, hdu: Int(extNum), weight: product.confName, zeroPoint: zeroPoint,
                    exposureTime: product.expTime, appDriver: driver, workDirectory: scratch, timeout: timeout)
                catalogues.append((extNum, catalogue))
            }
            var rows = 0
            try await ctx.step(programme: programme.name) { db, step in
                try FileManager.default.createDirectory(at: db.transactionDirectory, withIntermediateDirectories: true)
                let files = try catalogues.map { extNum, catalogue in
                    try catalogue.makeTransactionData(
                        target: DetectionTarget(table: product.detectionTable, multiframeID: product.multiframeID, extNum: extNum,
                                                filterID: product.filterID, cuEventID: Int32(step.cuEventID)),
                        into: db.transactionDirectory)
                }
                rows = try await db.loadAll(files, in: step)
                try await db.logCatalogueIngest([CatalogueIngestRecord(
                    multiframeID: product.multiframeID, catName: product.fileName, detectionTable: product.detectionTable,
                    rowsLoaded: Int64(rows))], in: step)
            }
            let uncorrected = catalogues.filter { $0.1.correctionStars < ExtractedCatalogue.minimumCorrectionStars }.count
            ctx.logger.info("cu14: \(rows) detection(s) of \(product.fileName) loaded into \(product.detectionTable)")
            return (rows, uncorrected)
        }
    }
}
