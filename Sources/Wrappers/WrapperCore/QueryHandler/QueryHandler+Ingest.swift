import Foundation
import Postgres
public import AppDriver
import TransactionFormat

/// A survey programme as the archive knows it.
public struct ProgrammeInfo: Sendable, Hashable {
    public var programmeID: Int32
    /// The acronym: LAS, GPS, …
    public var name: String
    /// The PROJECT header value, `U/UKIDSS/LAS`.
    public var dfsIDString: String
    /// Its single-frame detection table, e.g. `lasDetection`.
    public var detectionTable: String
}

/// A file in TransferLog: one version of a delivered file, as copied into the archive — the
/// ``TransferRecord`` CU1 wrote (its members read through, `transfer.fileName`), with what the
/// table adds.
@dynamicMemberLookup
public struct ArchivedTransfer: Sendable, Hashable {
    public var transferID: Int64
    public var record: TransferRecord
    public var deprecated: Int16
    /// When it was copied, as yyyymmddhhmmss (UTC).
    public var timeStamp: Int64

    public init(transferID: Int64, record: TransferRecord, deprecated: Int16, timeStamp: Int64) {
        self.transferID = transferID
        self.record = record
        self.deprecated = deprecated
        self.timeStamp = timeStamp
    }

    public subscript<Value>(dynamicMember member: KeyPath<TransferRecord, Value>) -> Value { record[keyPath: member] }
}

/// A frame whose catalogue is waiting for CU4.
public struct PendingCatalogue: Sendable, Hashable {
    public var multiframeID: Int64
    public var fileName: String
    public var catName: String
    public var programmeID: Int32
    public var filterID: Int16
    public var detectionTable: String
    /// The frame's image extensions (MultiframeDetector.extNum).
    public var extNums: [Int16]
    /// The catalogue's delivery path and checksum (TransferLog), for its Quarantine row.
    public var catSourcePath: String = WSANull.text
    public var catChecksum: String = WSANull.text
}

extension QueryHandler {
    /// The survey programmes (not the null programme).
    public func programmeInfo() throws(WrapperError) -> [ProgrammeInfo] {
        try run("list programmes") {
            try connection.query("""
                SELECT programmeID, name, dfsIDString, detectionTable FROM Programme
                WHERE programmeID > 0 ORDER BY programmeID
                """, []).map {
                ProgrammeInfo(programmeID: try $0.decode(Int32.self, "programmeid"), name: try $0.decode(String.self, "name"),
                              dfsIDString: try $0.decode(String.self, "dfsidstring"),
                              detectionTable: try $0.decode(String.self, "detectiontable"))
            }
        }
    }

    /// Filter IDs by the FILTER header value.
    public func filterIDs() throws(WrapperError) -> [String: Int16] {
        try run("list filters") {
            var result: [String: Int16] = [:]
            for row in try connection.query("SELECT shortName, filterID FROM Filter", []) {
                result[try row.decode(String.self, "shortname")] = try row.decode(Int16.self, "filterid")
            }
            return result
        }
    }

    /// Every version of the delivered files with these names (file names; `night/COMPLETE`).
    public func transfers(named names: [String]) throws(WrapperError) -> [ArchivedTransfer] {
        guard !names.isEmpty else { return [] }
        return try transfers(where: "deliveredName = ANY($1::text[])", [.text(Self.textArray(names))])
    }

    /// The current versions of the delivered files with these names, by name.
    public func currentTransfers(named names: [String]) throws(WrapperError) -> [String: ArchivedTransfer] {
        let list = try transfers(named: names).filter { $0.deprecated == 0 }
        return Dictionary(list.map { ($0.deliveredName, $0) }, uniquingKeysWith: { a, b in a.version > b.version ? a : b })
    }

    /// Which of these checksums belong to files set aside as bad before.
    public func quarantinedChecksums(_ checksums: [String]) throws(WrapperError) -> Set<String> {
        guard !checksums.isEmpty else { return [] }
        return try run("read the quarantine") {
            Set(try connection.query("SELECT checksum FROM Quarantine WHERE checksum = ANY($1::text[])",
                                     [.text(Self.textArray(checksums))]).map { try $0.decode(String.self, "checksum") })
        }
    }

    /// Which of these delivery paths (`night/name`) were set aside as bad before.
    public func quarantinedPaths(_ sourcePaths: [String]) throws(WrapperError) -> Set<String> {
        guard !sourcePaths.isEmpty else { return [] }
        return try run("read the quarantine") {
            Set(try connection.query("SELECT sourcePath FROM Quarantine WHERE sourcePath = ANY($1::text[])",
                                     [.text(Self.textArray(sourcePaths))]).map { try $0.decode(String.self, "sourcepath") })
        }
    }

    /// Quarantined files and where they should have been moved.
    public func quarantinedFiles() throws(WrapperError) -> [(fileName: String, movedTo: String)] {
        try run("read the quarantine") {
            try connection.query("SELECT fileName, movedTo FROM Quarantine WHERE movedTo <> 'NONE' ORDER BY quarantineID", [])
                .map { (try $0.decode(String.self, "filename"), try $0.decode(String.self, "movedto")) }
        }
    }

    /// CU2's work: current image files without JPEGs, not quarantined.
    public func framesToCompress(programmeID: Int32? = nil) throws(WrapperError) -> [ArchivedTransfer] {
        try transfers(where: """
            fileType = 'image' AND deprecated = 0 AND ($1::integer IS NULL OR programmeID = $1)
            AND NOT EXISTS (SELECT 1 FROM CompressedImage c WHERE c.transferID = t.transferID)
            AND NOT EXISTS (SELECT 1 FROM Quarantine q WHERE q.fileName = t.fileName)
            """, [programmeID.map { .int32($0) }])
    }

    /// CU3's work: current images (with their JPEGs) and confidence maps not yet in Multiframe,
    /// not quarantined.
    public func framesToIngest(programmeID: Int32? = nil) throws(WrapperError) -> [ArchivedTransfer] {
        try transfers(where: """
            fileType IN ('image', 'conf') AND deprecated = 0 AND ($1::integer IS NULL OR programmeID = $1)
            AND NOT EXISTS (SELECT 1 FROM Multiframe m WHERE m.fileName = t.fileName)
            AND NOT EXISTS (SELECT 1 FROM Quarantine q WHERE q.fileName = t.fileName)
            AND (fileType = 'conf' OR EXISTS (SELECT 1 FROM CompressedImage c WHERE c.transferID = t.transferID))
            """, [programmeID.map { .int32($0) }])
    }

    /// The JPEGs of these transfers: transferID → extNum → (JPEG, thumbnail).
    public func compressedImages(transferIDs: [Int64]) throws(WrapperError) -> [Int64: [Int16: (jpeg: String, thumbnail: String)]] {
        guard !transferIDs.isEmpty else { return [:] }
        return try run("read the compressed images") {
            var result: [Int64: [Int16: (jpeg: String, thumbnail: String)]] = [:]
            for row in try connection.query("""
                SELECT transferID, extNum, compFile, thumbFile FROM CompressedImage WHERE transferID = ANY($1::bigint[])
                """, [.text(Self.intArray(transferIDs))]) {
                result[try row.decode(Int64.self, "transferid"), default: [:]][try row.decode(Int16.self, "extnum")] =
                    (try row.decode(String.self, "compfile"), try row.decode(String.self, "thumbfile"))
            }
            return result
        }
    }

    /// multiframeIDs of files already in Multiframe, by archive path.
    public func multiframeIDs(fileNames: [String]) throws(WrapperError) -> [String: Int64] {
        guard !fileNames.isEmpty else { return [:] }
        return try run("look up frames") {
            var result: [String: Int64] = [:]
            for row in try connection.query("SELECT fileName, multiframeID FROM Multiframe WHERE fileName = ANY($1::text[])",
                                            [.text(Self.textArray(fileNames))]) {
                result[try row.decode(String.self, "filename")] = try row.decode(Int64.self, "multiframeid")
            }
            return result
        }
    }

    /// Current Multiframe rows of earlier versions of the delivered file `deliveredName`.
    public func framesSuperseded(deliveredName: String, byVersion version: Int32) throws(WrapperError) -> [Int64] {
        try run("look up earlier versions") {
            try connection.query("""
                SELECT m.multiframeID FROM Multiframe m JOIN TransferLog t ON t.fileName = m.fileName
                WHERE t.deliveredName = $1 AND t.version < $2 AND m.deprecated = 0
                """, [.text(deliveredName), .int32(version)]).map { try $0.decode(Int64.self, "multiframeid") }
        }
    }

    /// CU4's work: current frames with a catalogue not yet loaded and not quarantined.
    public func cataloguesToIngest(programmeID: Int32? = nil) throws(WrapperError) -> [PendingCatalogue] {
        try run("find catalogues to ingest") {
            try connection.query("""
                SELECT m.multiframeID, m.fileName, m.catName, m.programmeID, m.filterID, p.detectionTable,
                       coalesce(t.sourcePath, 'NONE') AS catsourcepath, coalesce(t.checksum, 'NONE') AS catchecksum,
                       array_to_string(ARRAY(SELECT d.extNum FROM MultiframeDetector d
                                             WHERE d.multiframeID = m.multiframeID ORDER BY d.extNum), ',') AS extnums
                FROM Multiframe m JOIN Programme p USING (programmeID)
                LEFT JOIN TransferLog t ON t.fileName = m.catName
                WHERE m.frameType = 'normal' AND m.deprecated = 0 AND m.catName <> 'NONE'
                  AND ($1::integer IS NULL OR m.programmeID = $1)
                  AND NOT EXISTS (SELECT 1 FROM CatalogueIngest c WHERE c.multiframeID = m.multiframeID)
                  AND NOT EXISTS (SELECT 1 FROM Quarantine q WHERE q.fileName = m.catName)
                ORDER BY m.multiframeID
                """, [programmeID.map { .int32($0) }]).map {
                PendingCatalogue(multiframeID: try $0.decode(Int64.self, "multiframeid"),
                                 fileName: try $0.decode(String.self, "filename"),
                                 catName: try $0.decode(String.self, "catname"),
                                 programmeID: try $0.decode(Int32.self, "programmeid"),
                                 filterID: try $0.decode(Int16.self, "filterid"),
                                 detectionTable: try $0.decode(String.self, "detectiontable"),
                                 extNums: try $0.decode(String.self, "extnums").split(separator: ",").compactMap { Int16($0) },
                                 catSourcePath: try $0.decode(String.self, "catsourcepath"),
                                 catChecksum: try $0.decode(String.self, "catchecksum"))
            }
        }
    }

    private func transfers(where condition: String, _ params: [PostgresValue?]) throws(WrapperError) -> [ArchivedTransfer] {
        try run("read the transfer log") {
            try connection.query("""
                SELECT transferID, sourcePath, deliveredName, fileName, fileType, programmeID, fileSize, checksum, version, deprecated,
                       to_char(transferredAt AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') AS stamp
                FROM TransferLog t WHERE \(condition) ORDER BY sourcePath, version
                """, params).map {
                ArchivedTransfer(transferID: try $0.decode(Int64.self, "transferid"), record: TransferRecord(
                                     sourcePath: try $0.decode(String.self, "sourcepath"),
                                     deliveredName: try $0.decode(String.self, "deliveredname"),
                                     fileName: try $0.decode(String.self, "filename"),
                                     fileType: try Self.fileType(try $0.decode(String.self, "filetype")),
                                     programmeID: try $0.decode(Int32.self, "programmeid"),
                                     fileSize: try $0.decode(Int64.self, "filesize"),
                                     checksum: try $0.decode(String.self, "checksum"),
                                     version: try $0.decode(Int32.self, "version")),
                                 deprecated: try $0.decode(Int16.self, "deprecated"),
                                 timeStamp: Int64(try $0.decode(String.self, "stamp")) ?? WSANull.bigInt)
            }
        }
    }

    /// A TransferLog fileType; the schema's CHECK allows no other.
    static func fileType(_ text: String) throws(WrapperError) -> FileType {
        guard let type = FileType(rawValue: text) else {
            throw WrapperError(.queryFailed, "TransferLog holds an unknown fileType '\(text.prefix(20))'")
        }
        return type
    }

    /// A Multiframe frameType (or a RequiredStack productType); the schema's CHECK allows no other.
    static func frameType(_ text: String) throws(WrapperError) -> FrameType {
        guard let type = FrameType(rawValue: text) else {
            throw WrapperError(.queryFailed, "the archive holds an unknown frame type '\(text.prefix(20))'")
        }
        return type
    }

    static func textArray(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    static func intArray(_ values: [Int64]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }
}
