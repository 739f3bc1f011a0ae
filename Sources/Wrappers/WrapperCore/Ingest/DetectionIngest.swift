public import Foundation
import SystemSupport
import AppDriver

/// CU4's rules for a batch of frames whose catalogues wait (seed 004 §7 CU4): each CASU
/// catalogue extension becomes a transaction file of the programme's Detection table, linked to
/// its MultiframeDetector row (extNum = the catalogue HDU, as the image's), with RA/Dec from x, y
/// through the header WCS and calibrated magnitudes.
public enum DetectionIngest {
    /// The transaction files of every frame of `batch`, read and converted on all cores (blocking
    /// work on threads of their own), in the batch's order: each frame's files, or the reason its
    /// catalogue cannot be loaded.
    public static func prepare(_ batch: [PendingCatalogue], cuEventID: Int,
                               into directory: URL) async -> [Result<[TransactionData], any Error>] {
        await parallelMap(batch) { frame in try transactionFiles(frame, cuEventID: cuEventID, into: directory) }
    }

    /// One frame's transaction files, one per catalogue extension.
    public static func transactionFiles(_ frame: PendingCatalogue, cuEventID: Int,
                                        into directory: URL) throws -> [TransactionData] {
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

extension QuarantineRecord {
    /// The record of a catalogue CU4 cannot load.
    public init(catalogueOf frame: PendingCatalogue, reason: any Error, layout: ArchiveLayout) {
        self.init(fileName: frame.catName, movedTo: layout.quarantinePath(for: frame.catName).path,
                  reason: (reason as? WrapperError)?.problem ?? "\(reason)", sourcePath: frame.catSourcePath,
                  checksum: frame.catChecksum, cuID: 4, programmeID: frame.programmeID)
    }
}
