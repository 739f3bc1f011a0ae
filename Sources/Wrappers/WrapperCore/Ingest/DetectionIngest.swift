public import Foundation
import SystemSupport
public import AppDriver

/// CU4's rules for a batch of frames whose catalogues wait (seed 004 §7 CU4): each CASU
/// catalogue extension's detections go to the programme's Detection table, linked to its
/// MultiframeDetector row (extNum = the catalogue HDU, as the image's), with RA/Dec from x, y
/// through the header WCS and calibrated magnitudes. A step's detections go into one
/// transaction file, so the load server loads them with one COPY.
///
/// ```swift
/// let read = await DetectionIngest.read(batch)            // all cores; per frame: rows or why not
/// try await ctx.step(programme: name) { db, step in
///     let file = try DetectionIngest.transactionData(good, cuEventID: step.cuEventID, into: db.transactionDirectory)
///     try await db.loadAll([file], in: step)
/// }
/// ```
public enum DetectionIngest {
    /// The detections of every frame of `batch`, read and converted on all cores (blocking work
    /// on threads of their own), in the batch's order: each frame's, or the reason its catalogue
    /// cannot be loaded.
    public static func read(_ batch: [PendingCatalogue]) async -> [Result<FrameDetections, any Error>] {
        await parallelMap(batch) { frame in try read(frame) }
    }

    /// One frame's detections, every catalogue extension checked against the frame's image
    /// extensions.
    public static func read(_ frame: PendingCatalogue) throws -> FrameDetections {
        let reader = try FitsReader(frame.catName)
        defer { reader.close() }
        let hdus = reader.getCatalogArrays()
        guard !hdus.isEmpty else {
            throw WrapperError(.wrongContents, file: frame.catName, "no CASU catalogue extension")
        }
        let extensions = try hdus.map { hdu in
            guard frame.extNums.contains(Int16(hdu)) else {
                throw WrapperError(.wrongContents, file: frame.catName,
                                   "HDU \(hdu) has no image extension \(hdu) in \(frame.fileName)")
            }
            let target = DetectionTarget(table: frame.detectionTable, multiframeID: frame.multiframeID, extNum: Int16(hdu),
                                         filterID: frame.filterID, cuEventID: 0)
            return try reader.readDetections(catalogue: hdu, target: target)
        }
        return FrameDetections(frame: frame, extensions: extensions)
    }

    /// One transaction file of all the detections of `frames` (one Detection table), stamped
    /// with `cuEventID`; nil when there are none.
    public static func transactionData(_ frames: [FrameDetections], cuEventID: Int,
                                       into directory: URL) throws(WrapperError) -> TransactionData? {
        let all = frames.flatMap(\.extensions)
        guard !all.isEmpty else { return nil }
        return try CASUCatalogue.transactionData(all, cuEventID: Int32(cuEventID), into: directory,
                                                 file: frames.count == 1 ? frames[0].frame.catName : "\(frames.count) catalogues")
    }
}

/// A frame's catalogue, read and converted into memory.
public struct FrameDetections: Sendable {
    public let frame: PendingCatalogue
    let extensions: [CASUCatalogue.Detections]

    /// Detections over all its extensions.
    public var rows: Int { extensions.reduce(0) { $0 + $1.rows } }

    /// Its CatalogueIngest row.
    public var ingestRecord: CatalogueIngestRecord {
        CatalogueIngestRecord(multiframeID: frame.multiframeID, catName: frame.catName, detectionTable: frame.detectionTable,
                              rowsLoaded: Int64(rows))
    }
}

extension QuarantineRecord {
    /// The record of a catalogue CU4 cannot load.
    public init(catalogueOf frame: PendingCatalogue, reason: any Error, layout: ArchiveLayout) {
        self.init(fileName: frame.catName, movedTo: layout.quarantinePath(for: frame.catName).path,
                  reason: (reason as? WrapperError)?.problem ?? "\(reason)", sourcePath: frame.catSourcePath,
                  checksum: frame.catChecksum, cuID: 4, programmeID: frame.programmeID)
    }
}
