import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import AppDriver
import Curation

/// CU3: ingest details of image products (seed 004 §7).
@main
struct CU3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu3",
        abstract: "Ingest the metadata of newly transferred images and confidence maps.",
        discussion: """
            For every current image (with its JPEGs from CU2) and confidence map in TransferLog \
            not yet in Multiframe (per programme): Multiframe, MultiframeDetector and \
            CurrentAstrometry rows from the headers (frame type, programme, filter, MJD, exposure, \
            file path, size, checksum, version, JPEG paths, confidence map link, per-detector \
            seeing and zero point, the WCS and the sky footprint), through transaction files, in \
            atomic steps of --frames-per-step. A new version of a file deprecates the frames of \
            the earlier versions in the same step. A file with a bad header is reported, \
            quarantined and skipped.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Files ingested per atomic step.")
    var framesPerStep = 50

    func run() async throws {
        try await CUContext.run(program: "cu3", cuID: 3, options: options) { [framesPerStep] ctx in
            let filters = try ctx.query.filterIDs()
            var ingested = 0, detectors = 0, deprecated = 0, bad = 0
            // Confidence maps first: the images refer to them.
            let found = try await ctx.forEachProgramme({
                try ctx.query.framesToIngest(programmeID: $0.programmeID)
                    .sorted { ($0.fileType == "conf" ? 0 : 1, $0.sourcePath) < ($1.fileType == "conf" ? 0 : 1, $1.sourcePath) }
            }, describe: { "ingest \($0.fileName) (\($0.fileType), version \($0.version))" }) { programme, pending in
                let jpegs = try ctx.query.compressedImages(transferIDs: pending.map(\.transferID))
                for batch in CUContext.batches(pending, of: framesPerStep) {
                    var quarantine: [QuarantineRecord] = []
                    var superseded: [Int64] = []
                    try await ctx.step(programme: programme.name) { db, step in
                        let ids = try await db.reserveIDs("Multiframe", count: batch.count)
                        let related = try ctx.query.currentTransfers(named: batch.flatMap { Self.relatedNames($0) })
                        var idOfFile: [String: Int64] = [:]
                        for (frame, id) in zip(batch, ids) { idOfFile[frame.fileName] = id }
                        let confFiles = related.values.filter { $0.fileType == "conf" }.map(\.fileName)
                        let knownIDs = try ctx.query.multiframeIDs(fileNames: confFiles)
                        var frames: [(ImageMetadata, FrameRecord)] = []
                        for (frame, id) in zip(batch, ids) {
                            do {
                                let reader = try FitsReader(frame.fileName)
                                let metadata = try reader.readImageMetadata()
                                reader.close()
                                guard let filterID = filters[metadata.filterName] else {
                                    throw WrapperError(.missingKeyword, file: frame.fileName,
                                                       "FILTER '\(metadata.filterName)' is not a passband of the archive")
                                }
                                var confID: Int64 = -99_999_999
                                var catName = "NONE"
                                var tableRows: [Int: Int] = [:]
                                if frame.fileType == "image" {
                                    if metadata.confName != "NONE", let conf = related[metadata.confName] {
                                        confID = idOfFile[conf.fileName] ?? knownIDs[conf.fileName] ?? -99_999_999
                                    }
                                    if let catalogue = related[Self.catalogueName(of: frame.deliveredName)] {
                                        catName = catalogue.fileName
                                        tableRows = (try? Self.rowCounts(catalogue.fileName)) ?? [:]
                                    }
                                }
                                let record = FrameRecord(
                                    multiframeID: id, fileName: frame.fileName, version: frame.version,
                                    frameType: frame.fileType == "conf" ? "conf" : "normal",
                                    programmeID: programme.programmeID, filterID: filterID, confID: confID, catName: catName,
                                    fileSize: frame.fileSize, checksum: frame.checksum, fileTimeStamp: frame.timeStamp,
                                    deprecated: 0, cuEventID: Int32(step.cuEventID),
                                    compFiles: (jpegs[frame.transferID] ?? [:]).reduce(into: [:]) { $0[Int($1.key)] = $1.value.jpeg },
                                    tableRows: tableRows)
                                frames.append((metadata, record))
                                if frame.version > 1 {
                                    superseded += try ctx.query.framesSuperseded(deliveredName: frame.deliveredName,
                                                                                 byVersion: frame.version)
                                }
                            } catch where CUContext.isBadInput(error) {
                                ctx.reportBadFile(error, file: frame.fileName)
                                quarantine.append(ctx.quarantineRecord(frame, reason: error))
                            }
                            ctx.progress.advance()
                        }
                        if !frames.isEmpty {
                            try FileManager.default.createDirectory(at: db.transactionDirectory, withIntermediateDirectories: true)
                            let files = try ImageMetadataLoad.makeTransactionData(frames, into: db.transactionDirectory)
                            try await db.loadAll(files, in: step)
                        }
                        if !superseded.isEmpty { try await db.deprecate("Multiframe", ids: superseded, in: step) }
                        try await db.logQuarantine(quarantine, in: step)
                        ingested += frames.count
                        detectors += frames.reduce(0) { $0 + $1.0.detectors.count }
                    }
                    try ctx.moveQuarantined(quarantine)
                    deprecated += superseded.count
                    bad += quarantine.count
                }
            }
            let verb = ctx.options.dryRun ? "would ingest" : "ingested"
            return "cu3: \(verb) \(ctx.options.dryRun ? found : ingested) file(s) (\(detectors) detector(s)); \(deprecated) earlier version(s) deprecated; \(bad) bad file(s) quarantined"
        }
    }

    /// The name of an image's CASU catalogue (`…_sf_st.fit` → `…_sf_st_cat.fits`).
    static func catalogueName(of image: String) -> String {
        (image.hasSuffix(".fit") ? String(image.dropLast(4)) : image) + "_cat.fits"
    }

    /// The delivered names an image's ingest needs: its catalogue and its confidence map.
    static func relatedNames(_ frame: ArchivedTransfer) -> [String] {
        guard frame.fileType == "image" else { return [] }
        let stem = frame.deliveredName.hasSuffix(".fit") ? String(frame.deliveredName.dropLast(4)) : frame.deliveredName
        return [stem + "_cat.fits", stem + "_conf.fit"]
    }

    static func rowCounts(_ catalogue: String) throws -> [Int: Int] {
        let reader = try FitsReader(catalogue)
        defer { reader.close() }
        return try reader.catalogueRowCounts()
    }
}
