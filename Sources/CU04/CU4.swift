import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import SystemSupport
import AppDriver
import Curation

/// CU4: ingest single-frame source detections (seed 004 §7).
@main
struct CU4: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu4",
        abstract: "Ingest single-frame source detections from the CASU catalogues.",
        discussion: """
            For every ingested frame whose catalogue is not loaded yet (per programme): each \
            catalogue extension becomes rows of the programme's Detection table, linked to its \
            MultiframeDetector row, with RA/Dec recomputed from x, y through the header WCS and \
            calibrated magnitudes. Frames are committed in steps of --frames-per-step, each step \
            atomic. A bad catalogue is reported, quarantined and skipped; the rest goes on.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Catalogues loaded per atomic step.")
    var framesPerStep = 25

    func run() async throws {
        try await CUContext.run(program: "cu4", cuID: 4, options: options) { ctx in
            var frames = 0, rows = 0, bad = 0, steps = 0
            let found = try await ctx.forEachProgramme({ try ctx.query.cataloguesToIngest(programmeID: $0.programmeID) },
                                                       describe: { "load \($0.catName) into \($0.detectionTable)" }) { programme, pending in
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    var loaded: [CatalogueIngestRecord] = []
                    var quarantine: [QuarantineRecord] = []
                    try await ctx.step(programme: programme.name) { db, step in
                        // Catalogues are read and converted on all cores, then loaded in order.
                        let directory = db.transactionDirectory, cuEventID = step.cuEventID
                        let prepared = await parallelMap(batch) { frame in
                            try Self.transactionFiles(frame, cuEventID: cuEventID, into: directory)
                        }
                        for (frame, files) in zip(batch, prepared) {
                            do {
                                let n = try await db.loadAll(try files.get(), in: step)
                                rows += n
                                loaded.append(CatalogueIngestRecord(multiframeID: frame.multiframeID, catName: frame.catName,
                                                                    detectionTable: frame.detectionTable, rowsLoaded: Int64(n)))
                            } catch where CUContext.isBadInput(error) {
                                ctx.reportBadFile(error, file: frame.catName)
                                quarantine.append(QuarantineRecord(
                                    fileName: frame.catName, movedTo: ctx.layout.quarantinePath(for: frame.catName).path,
                                    reason: CUContext.problem(error), cuID: 4, programmeID: frame.programmeID))
                            }
                            ctx.progress.advance()
                        }
                        try await db.logCatalogueIngest(loaded, in: step)
                        try await db.logQuarantine(quarantine, in: step)
                    }
                    try ctx.moveQuarantined(quarantine)
                    steps += 1
                    frames += loaded.count
                    bad += quarantine.count
                }
            }
            let verb = ctx.options.dryRun ? "would load" : "loaded"
            return "cu4: \(verb) the catalogues of \(ctx.options.dryRun ? found : frames) frame(s): \(rows) detection(s) in \(steps) step(s); \(bad) bad file(s) quarantined"
        }
    }

    /// The detection transaction files of a frame's catalogue, one per extension.
    static func transactionFiles(_ frame: PendingCatalogue, cuEventID: Int, into directory: URL) throws -> [TransactionData] {
        let reader = try FitsReader(frame.catName)
        defer { reader.close() }
        let hdus = reader.getCatalogArrays()
        guard !hdus.isEmpty else {
            throw WrapperError(.wrongContents, file: frame.catName, "no CASU catalogue extension")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try hdus.map { hdu in
            guard frame.extNums.contains(Int16(hdu)) else {
                throw WrapperError(.wrongContents, file: frame.catName,
                                   "HDU \(hdu) has no image extension \(hdu) in \(frame.fileName)")
            }
            let target = DetectionTarget(table: frame.detectionTable, multiframeID: frame.multiframeID, extNum: Int16(hdu),
                                         filterID: frame.filterID, cuEventID: Int32(cuEventID))
            return try reader.makeTransactionData(catalogue: hdu, target: target, into: directory)
        }
    }
}
