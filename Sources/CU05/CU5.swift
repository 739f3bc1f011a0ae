import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import Drivers
import AppDriver

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
            try ctx.finishCommittedProducts()
            let found = try await ctx.forEachProgramme({ try ctx.query.diffsToMake(programmeID: $0.programmeID) }, describe: { Self.describe($0) }) { programme, pending in
                try await ctx.forEachProduct(pending, into: &tally, describe: Self.describe) { pair in
                    try await Self.make(pair, programme: programme, ctx: ctx, timeout: tools.timeout)
                }
            }
            try tally.check(program: "cu5", noun: "difference image(s)")
            return ctx.options.dryRun ? "cu5: would make \(found) difference image(s)" : "cu5: made \(tally.done) difference image(s)"
        }
    }

    static func describe(_ pair: PendingDiff) -> String {
        "subtract \(URL(fileURLWithPath: pair.continuum.fileName).lastPathComponent) (\(pair.continuum.filterName)) from "
            + "\(URL(fileURLWithPath: pair.line.fileName).lastPathComponent) (\(pair.line.filterName))"
    }

    static func make(_ pair: PendingDiff, programme: ProgrammeInfo, ctx: CUContext, timeout: Duration) async throws {
        var stem = URL(fileURLWithPath: pair.line.fileName).deletingPathExtension().lastPathComponent
        stem += "_\(pair.line.filterName.lowercased())-\(pair.continuum.filterName.lowercased())_diff"
        let stemPath = ctx.layout.productPath(programme: programme.name, kind: .diff, name: stem + "_v").path
        let version = try ctx.nextProductVersion(stem: stemPath)
        let image = URL(fileURLWithPath: "\(stemPath)\(version).fit")
        let confidence = URL(fileURLWithPath: "\(stemPath)\(version)_conf.fit")
        let line = try StackInput(image: URL(fileURLWithPath: pair.line.fileName), confidence: URL(fileURLWithPath: pair.line.confName))
        let continuum = try StackInput(image: URL(fileURLWithPath: pair.continuum.fileName),
                                       confidence: URL(fileURLWithPath: pair.continuum.confName))
        let made = MadeProduct(frameType: .diff, image: image, confidence: confidence,
                               inputs: [pair.line.multiframeID, pair.continuum.multiframeID],
                               programmeID: pair.programmeID, filterID: pair.line.filterID, version: version,
                               supersedes: pair.current.map { [$0.multiframeID, $0.confID].filter { $0 > 0 } } ?? [])
        let driver = ctx.appDriver
        do {
            _ = try await ctx.withScratchDirectory { scratch in
                try await DiaDriver.makeDiffImage(h2: line, k: continuum, to: made.partImage, confidence: made.partConfidence,
                                                  appDriver: driver, workDirectory: scratch, timeout: timeout)
            }
            try await ctx.step(programme: programme.name) { db, step in
                try await ctx.ingestProducts([made], db: db, step: step)
            }
        } catch {
            ctx.discardProducts([made])
            throw error
        }
        try ctx.publishProducts([made])
        ctx.note("cu5: made \(image.path)")
    }
}
