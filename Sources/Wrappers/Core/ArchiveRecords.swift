import Foundation
import Postgres
import TransactionFormat

/// One delivered file copied into the archive (a TransferLog row).
public struct TransferRecord: Sendable, Hashable {
    /// Where it was delivered: `night/name`.
    public var sourcePath: String
    /// The file's identity across versions: its name (`night/COMPLETE` for a night's marker).
    public var deliveredName: String
    /// Where it is in the archive file system.
    public var fileName: String
    /// image, conf, catalogue, or marker (the night's COMPLETE file).
    public var fileType: String
    public var programmeID: Int32
    public var fileSize: Int64
    /// SHA-256 of the file, hex.
    public var checksum: String
    public var version: Int32

    public init(sourcePath: String, deliveredName: String, fileName: String, fileType: String, programmeID: Int32,
                fileSize: Int64, checksum: String, version: Int32) {
        self.sourcePath = sourcePath
        self.deliveredName = deliveredName
        self.fileName = fileName
        self.fileType = fileType
        self.programmeID = programmeID
        self.fileSize = fileSize
        self.checksum = checksum
        self.version = version
    }
}

/// A file set aside as bad input, and why (a Quarantine row).
public struct QuarantineRecord: Sendable, Hashable {
    /// The file where it was found (archive path, or the delivery path when CU1 found it).
    public var fileName: String
    /// Where it was moved.
    public var movedTo: String
    /// The one-line problem.
    public var reason: String
    public var sourcePath: String
    public var checksum: String
    public var cuID: Int16
    public var programmeID: Int32

    public init(fileName: String, movedTo: String, reason: String, sourcePath: String = "NONE",
                checksum: String = "NONE", cuID: Int16, programmeID: Int32 = -99_999_999) {
        self.fileName = fileName
        self.movedTo = movedTo
        self.reason = reason
        self.sourcePath = sourcePath
        self.checksum = checksum
        self.cuID = cuID
        self.programmeID = programmeID
    }
}

/// The JPEG library image of one image extension (a CompressedImage row).
public struct CompressionRecord: Sendable, Hashable {
    public var transferID: Int64
    public var extNum: Int16
    public var compFile: String
    public var thumbFile: String
    public var width: Int32
    public var height: Int32

    public init(transferID: Int64, extNum: Int16, compFile: String, thumbFile: String, width: Int32, height: Int32) {
        self.transferID = transferID
        self.extNum = extNum
        self.compFile = compFile
        self.thumbFile = thumbFile
        self.width = width
        self.height = height
    }
}

/// A frame whose catalogue CU4 loaded (a CatalogueIngest row).
public struct CatalogueIngestRecord: Sendable, Hashable {
    public var multiframeID: Int64
    public var catName: String
    public var detectionTable: String
    public var rowsLoaded: Int64

    public init(multiframeID: Int64, catName: String, detectionTable: String, rowsLoaded: Int64) {
        self.multiframeID = multiframeID
        self.catName = catName
        self.detectionTable = detectionTable
        self.rowsLoaded = rowsLoaded
    }
}

/// An input of a product (a Provenance row): `inputOrder` 0 is the reference frame.
public struct ProvenanceRecord: Sendable, Hashable {
    public var combiframeID: Int64
    public var multiframeID: Int64
    public var inputOrder: Int16

    public init(combiframeID: Int64, multiframeID: Int64, inputOrder: Int16) {
        self.combiframeID = combiframeID
        self.multiframeID = multiframeID
        self.inputOrder = inputOrder
    }
}

/// Transaction files of the archive's bookkeeping rows.
enum ArchiveRecordFiles {
    static func write(_ records: [TransferRecord], cuEventID: Int32, into directory: URL) throws -> TransactionData {
        try make(directory, "TransferLog",
                 ["sourcePath", "deliveredName", "fileName", "fileType", "programmeID", "fileSize", "checksum", "version",
                  "cuEventID"], records) { w, r in
            w.write(r.sourcePath); w.write(r.deliveredName); w.write(r.fileName); w.write(r.fileType); w.write(r.programmeID)
            w.write(r.fileSize); w.write(r.checksum); w.write(r.version); w.write(cuEventID)
        }
    }

    static func write(_ records: [QuarantineRecord], cuEventID: Int32, into directory: URL) throws -> TransactionData {
        try make(directory, "Quarantine",
                 ["fileName", "movedTo", "reason", "sourcePath", "checksum", "cuID", "programmeID", "cuEventID"],
                 records) { w, r in
            w.write(r.fileName); w.write(r.movedTo); w.write(r.reason); w.write(r.sourcePath)
            w.write(r.checksum); w.write(r.cuID); w.write(r.programmeID); w.write(cuEventID)
        }
    }

    static func write(_ records: [CompressionRecord], cuEventID: Int32, into directory: URL) throws -> TransactionData {
        try make(directory, "CompressedImage",
                 ["transferID", "extNum", "compFile", "thumbFile", "width", "height", "cuEventID"], records) { w, r in
            w.write(r.transferID); w.write(r.extNum); w.write(r.compFile); w.write(r.thumbFile)
            w.write(r.width); w.write(r.height); w.write(cuEventID)
        }
    }

    static func write(_ records: [CatalogueIngestRecord], cuEventID: Int32, into directory: URL) throws -> TransactionData {
        try make(directory, "CatalogueIngest",
                 ["multiframeID", "catName", "detectionTable", "rowsLoaded", "cuEventID"], records) { w, r in
            w.write(r.multiframeID); w.write(r.catName); w.write(r.detectionTable); w.write(r.rowsLoaded)
            w.write(cuEventID)
        }
    }

    static func write(_ records: [ProvenanceRecord], cuEventID: Int32, into directory: URL) throws -> TransactionData {
        try make(directory, "Provenance", ["combiframeID", "multiframeID", "inputOrder", "cuEventID"], records) { w, r in
            w.write(r.combiframeID); w.write(r.multiframeID); w.write(r.inputOrder); w.write(cuEventID)
        }
    }

    private static func make<R>(_ directory: URL, _ table: String, _ columns: [String], _ records: [R],
                                _ row: (PostgresBinaryCopyWriter, R) throws -> Void) throws -> TransactionData {
        let (manifest, data) = try TransactionFile.write(to: directory, table: table, columns: columns,
                                                         writer: "DbHandler") { w in
            for r in records {
                try w.beginRow(fieldCount: columns.count)
                try row(w, r)
            }
        }
        return TransactionData(dataFile: data, table: manifest.table, rowCount: manifest.rowCount, sha256: manifest.sha256)
    }
}
