import Foundation
public import TransactionFormat
public import AppDriver

/// One delivered file copied into the archive (a TransferLog row).
public struct TransferRecord: Sendable, Hashable {
    /// Where it was delivered: `night/name`.
    public var sourcePath: String
    /// The file's identity across versions: its name (`night/COMPLETE` for a night's marker).
    public var deliveredName: String
    /// Where it is in the archive file system.
    public var fileName: String
    public var fileType: FileType
    public var programmeID: Int32
    public var fileSize: Int64
    /// SHA-256 of the file, hex.
    public var checksum: String
    public var version: Int32

    public init(sourcePath: String, deliveredName: String, fileName: String, fileType: FileType, programmeID: Int32,
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
    /// The one-line problem, as ``QuarantineReason`` makes it: at most 300 characters, no
    /// bytes from the file, no machine paths.
    public var reason: String
    public var sourcePath: String
    public var checksum: String
    public var cuID: Int16
    public var programmeID: Int32

    public init(fileName: String, movedTo: String, reason: String, sourcePath: String = WSANull.text,
                checksum: String = WSANull.text, cuID: Int16, programmeID: Int32 = WSANull.int) {
        self.fileName = fileName
        self.movedTo = movedTo
        self.reason = QuarantineReason.make(reason)
        self.sourcePath = sourcePath
        self.checksum = checksum
        self.cuID = cuID
        self.programmeID = programmeID
    }
}

extension QuarantineRecord {
    /// The record of an archived file that CU `cuID` found bad and sets aside.
    public init(setAside transfer: ArchivedTransfer, by cuID: Int, reason: WrapperError, layout: ArchiveLayout) {
        self.init(fileName: transfer.fileName, movedTo: layout.quarantinePath(for: transfer.fileName).path,
                  reason: reason.problem, sourcePath: transfer.sourcePath, checksum: transfer.checksum,
                  cuID: Int16(cuID), programmeID: transfer.programmeID)
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

    /// The row of `image`, made from the file `transferID`.
    public init(_ image: CompressedImage, transferID: Int64) {
        self.init(transferID: transferID, extNum: Int16(image.hdu), compFile: image.jpeg.path, thumbFile: image.thumbnail.path,
                  width: Int32(image.width), height: Int32(image.height))
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

/// The archive's bookkeeping tables: each one list of columns and values (``TableColumns``),
/// with the run's cuEventID last.
enum ArchiveTables {
    /// A row of a CU's run: the record and the run that writes it.
    typealias Run<Record> = (record: Record, cuEventID: Int32)

    static let transferLog = TableColumns<Run<TransferRecord>>("TransferLog", [
        .init("sourcePath") { $0.record.sourcePath },
        .init("deliveredName") { $0.record.deliveredName },
        .init("fileName") { $0.record.fileName },
        .init("fileType") { $0.record.fileType.rawValue },
        .init("programmeID") { $0.record.programmeID },
        .init("fileSize") { $0.record.fileSize },
        .init("checksum") { $0.record.checksum },
        .init("version") { $0.record.version },
        .init("cuEventID") { $0.cuEventID },
    ])

    static let quarantine = TableColumns<Run<QuarantineRecord>>("Quarantine", [
        .init("fileName") { $0.record.fileName },
        .init("movedTo") { $0.record.movedTo },
        .init("reason") { $0.record.reason },
        .init("sourcePath") { $0.record.sourcePath },
        .init("checksum") { $0.record.checksum },
        .init("cuID") { $0.record.cuID },
        .init("programmeID") { $0.record.programmeID },
        .init("cuEventID") { $0.cuEventID },
    ])

    static let compressedImage = TableColumns<Run<CompressionRecord>>("CompressedImage", [
        .init("transferID") { $0.record.transferID },
        .init("extNum") { $0.record.extNum },
        .init("compFile") { $0.record.compFile },
        .init("thumbFile") { $0.record.thumbFile },
        .init("width") { $0.record.width },
        .init("height") { $0.record.height },
        .init("cuEventID") { $0.cuEventID },
    ])

    static let catalogueIngest = TableColumns<Run<CatalogueIngestRecord>>("CatalogueIngest", [
        .init("multiframeID") { $0.record.multiframeID },
        .init("catName") { $0.record.catName },
        .init("detectionTable") { $0.record.detectionTable },
        .init("rowsLoaded") { $0.record.rowsLoaded },
        .init("cuEventID") { $0.cuEventID },
    ])

    static let provenance = TableColumns<Run<ProvenanceRecord>>("Provenance", [
        .init("combiframeID") { $0.record.combiframeID },
        .init("multiframeID") { $0.record.multiframeID },
        .init("inputOrder") { $0.record.inputOrder },
        .init("cuEventID") { $0.cuEventID },
    ])

    /// The transaction file of `records`, written by run `cuEventID`.
    static func write<Record>(_ records: [Record], as table: TableColumns<Run<Record>>, cuEventID: Int32,
                              into directory: URL) throws -> TransactionData {
        let (manifest, data) = try table.transactionFile(records.map { ($0, cuEventID) }, into: directory, writer: "DbHandler")
        return TransactionData(dataFile: data, table: manifest.table, rowCount: manifest.rowCount, sha256: manifest.sha256)
    }
}
