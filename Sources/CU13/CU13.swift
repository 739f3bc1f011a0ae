import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import Drivers
import AppDriver

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
            try ctx.finishCommittedProducts()
            let found = try await ctx.forEachProgramme({ try ctx.query.findNonStacked(programmeID: $0.programmeID) },
                                                       describe: { Self.describe($0) }) { programme, pending in
                try await ctx.forEachProduct(pending, into: &tally, describe: Self.describe) { product in
                    try await Self.make(product, programme: programme, ctx: ctx, timeout: tools.timeout)
                    frames += product.inputs.count
                }
            }
            try tally.check(program: "cu13", noun: "stack(s)/mosaic(s)")
            if ctx.options.dryRun { return "cu13: would make \(found) stack(s)/mosaic(s)" }
            return "cu13: made \(tally.done) stack(s)/mosaic(s) of \(frames) frame(s)"
        }
    }

    static func describe(_ product: PendingProduct) -> String {
        let place = product.kind == .stack ? String(format: " of the field at %.4f %+.4f", product.raBase, product.decBase) : ""
        let what = product.current == nil ? "make" : "remake (version \(product.current!.version + 1))"
        return "\(what) the \(product.filterName) \(product.kind)\(place) from \(product.inputs.count) frame(s), \(product.newFrames) new"
    }

    /// The product's name stem: `las_J_123.4567+01.2345_stack`, `dxs_K_mosaic`.
    static func stem(_ product: PendingProduct, programme: ProgrammeInfo) -> String {
        let prog = programme.name.lowercased()
        if product.kind == .mosaic { return "\(prog)_\(product.filterName)_mosaic" }
        return String(format: "%@_%@_%08.4f%+08.4f_stack", prog, product.filterName, product.raBase, product.decBase)
    }

    static func make(_ product: PendingProduct, programme: ProgrammeInfo, ctx: CUContext, timeout: Duration) async throws {
        let stem = Self.stem(product, programme: programme)
        let stemPath = ctx.layout.productPath(programme: programme.name, kind: product.kind, name: stem + "_v").path
        let version = try ctx.nextProductVersion(stem: stemPath)
        let image = URL(fileURLWithPath: "\(stemPath)\(version).fit")
        let confidence = URL(fileURLWithPath: "\(stemPath)\(version)_conf.fit")
        let inputs = try product.inputs.map {
            try StackInput(image: URL(fileURLWithPath: $0.fileName), confidence: URL(fileURLWithPath: $0.confName))
        }
        let existingIDs = Set(product.current?.inputs ?? [])
        let existing = zip(product.inputs, inputs).filter { existingIDs.contains($0.0.multiframeID) }.map(\.1)
        let new = zip(product.inputs, inputs).filter { !existingIDs.contains($0.0.multiframeID) }.map(\.1)
        var made = MadeProduct(frameType: product.kind, image: image, confidence: confidence, inputs: [],
                               programmeID: product.programmeID, filterID: product.filterID, version: version,
                               supersedes: product.current.map { [$0.multiframeID, $0.confID].filter { $0 > 0 } } ?? [])
        let driver = ctx.appDriver
        do {
            let result = try await ctx.withScratchDirectory { [made] scratch in
                if product.kind == .mosaic {
                    return try await StackDriver.addToMosaic(existing: existing, new: new, to: made.partImage,
                                                             confidence: made.partConfidence, appDriver: driver,
                                                             workDirectory: scratch, timeout: timeout)
                }
                return try await StackDriver.addToStack(existing: existing, new: new, to: made.partImage,
                                                        confidence: made.partConfidence, appDriver: driver,
                                                        workDirectory: scratch, timeout: timeout)
            }
            // Provenance in co-addition order: the reference frame first.
            let idOfPath = Dictionary(product.inputs.map { (URL(fileURLWithPath: $0.fileName).standardizedFileURL.path, $0.multiframeID) },
                                      uniquingKeysWith: { a, _ in a })
            made.inputs = result.inputs.compactMap { idOfPath[$0.standardizedFileURL.path] }
            try await ctx.step(programme: programme.name) { [made] db, step in
                try await ctx.ingestProducts([made], db: db, step: step)
            }
        } catch {
            ctx.discardProducts([made])
            throw error
        }
        try ctx.publishProducts([made])
        ctx.note("cu13: made \(image.path) from \(product.inputs.count) frame(s) (\(product.newFrames) new)")
    }
}
