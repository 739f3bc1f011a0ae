import Foundation
public import Logging
import TransactionFormat
import AppDriver

/// CU3's rules for a batch of transferred files (seed 004 §7 CU3): read each header, and make
/// the rows of Multiframe (frame type, programme, filter, file, size, checksum, version, JPEGs,
/// confidence map link, catalogue), MultiframeDetector and CurrentAstrometry; the frames of the
/// earlier versions a new version supersedes; and the files that cannot be read, set aside.
///
/// ```swift
/// let ingest = FrameIngest(query: query, layout: layout, programme: las, filters: try query.filterIDs())
/// let frames = try ingest.prepare(batch, ids: try await db.reserveIDs("Multiframe", count: batch.count), cuEventID: id)
/// try await db.loadFrames(frames, in: step)
/// ```
public struct FrameIngest: Sendable {
    public let query: QueryHandler
    public let layout: ArchiveLayout
    public let programme: ProgrammeInfo
    /// Passband name → filterID.
    public let filters: [String: Int16]
    let logger: Logger

    public init(query: QueryHandler, layout: ArchiveLayout, programme: ProgrammeInfo, filters: [String: Int16],
                logger: Logger = Logger(label: "wsa.cu3")) {
        self.query = query
        self.layout = layout
        self.programme = programme
        self.filters = filters
        self.logger = logger
    }

    /// The order files are ingested in: confidence maps first (the images refer to them), then
    /// by delivery path.
    public static func ingestOrder(_ files: [ArchivedTransfer]) -> [ArchivedTransfer] {
        files.sorted { ($0.fileType == .conf ? 0 : 1, $0.sourcePath) < ($1.fileType == .conf ? 0 : 1, $1.sourcePath) }
    }

    /// The rows of `batch`, with `ids` (reserved multiframeIDs, one per file) and `cuEventID`.
    /// A file whose header cannot be read is logged, left out and returned as set aside.
    /// `done` is called after each file.
    public func prepare(_ batch: [ArchivedTransfer], ids: [Int64], cuEventID: Int,
                        done: () -> Void = {}) throws -> FrameBatch {
        precondition(ids.count == batch.count, "one multiframeID per file")
        let jpegs = try query.compressedImages(transferIDs: batch.map(\.transferID))
        let related = try query.currentTransfers(named: batch.flatMap(Self.relatedNames))
        var idOfFile: [String: Int64] = [:]
        for (frame, id) in zip(batch, ids) { idOfFile[frame.fileName] = id }
        let knownIDs = try query.multiframeIDs(fileNames: related.values.filter { $0.fileType == .conf }.map(\.fileName))
        var result = FrameBatch()
        for (frame, id) in zip(batch, ids) {
            defer { done() }
            do {
                let reader = try FitsReader(frame.fileName)
                let metadata = try reader.readImageMetadata()
                reader.close()
                guard let filterID = filters[metadata.filterName] else {
                    throw WrapperError(.missingKeyword, file: frame.fileName,
                                       "FILTER '\(metadata.filterName)' is not a passband of the archive")
                }
                var record = FrameRecord(
                    multiframeID: id, fileName: frame.fileName, version: frame.version,
                    frameType: frame.fileType == .conf ? .conf : .normal, programmeID: programme.programmeID,
                    filterID: filterID, fileSize: frame.fileSize, checksum: frame.checksum, fileTimeStamp: frame.timeStamp,
                    cuEventID: Int32(cuEventID),
                    compFiles: (jpegs[frame.transferID] ?? [:]).reduce(into: [:]) { $0[Int($1.key)] = $1.value.jpeg })
                if frame.fileType == .image {
                    if metadata.confName != WSANull.text, let conf = related[metadata.confName] {
                        record.confID = idOfFile[conf.fileName] ?? knownIDs[conf.fileName] ?? WSANull.bigInt
                    }
                    if let catalogue = related[CASUName.catalogue(ofImage: frame.deliveredName)] {
                        record.catName = catalogue.fileName
                        // A catalogue whose row counts are impossible is CU4's to set aside.
                        record.tableRows = ((try? Self.rowCounts(catalogue.fileName)) ?? [:])
                            .filter { $0.value >= 0 && Int32(exactly: $0.value) != nil }
                    }
                }
                try ImageMetadataLoad.validate(metadata, record)
                result.frames.append((metadata, record))
                if frame.version > 1 {
                    result.superseded += try query.framesSuperseded(deliveredName: frame.deliveredName, byVersion: frame.version)
                }
            } catch let error as WrapperError where error.isBadInput {
                logger.error("\(error.line(naming: frame.fileName))")
                result.quarantined.append(QuarantineRecord(setAside: frame, by: 3, reason: error, layout: layout))
            }
        }
        return result
    }

    /// The delivered names an image's ingest needs: its catalogue and its confidence map.
    static func relatedNames(_ frame: ArchivedTransfer) -> [String] {
        guard frame.fileType == .image else { return [] }
        return [CASUName.catalogue(ofImage: frame.deliveredName), CASUName.confidence(ofImage: frame.deliveredName)]
    }

    /// Rows per catalogue extension, for MultiframeDetector (read from the catalogue's headers).
    static func rowCounts(_ catalogue: String) throws -> [Int: Int] {
        let reader = try FitsReader(catalogue)
        defer { reader.close() }
        return try reader.catalogueRowCounts()
    }
}

/// What one atomic step of CU3 loads: the frames' rows, the frames they supersede, and the
/// files set aside.
public struct FrameBatch: Sendable {
    public var frames: [(ImageMetadata, FrameRecord)] = []
    public var superseded: [Int64] = []
    public var quarantined: [QuarantineRecord] = []

    public init() {}

    /// Detector extensions among the frames.
    public var detectors: Int { frames.reduce(0) { $0 + $1.0.detectors.count } }
}
