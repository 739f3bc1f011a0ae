import Foundation
import Postgres
public import AppDriver

/// A position CU9 measures: a merged source lacking a band (or every source, as prescribed).
public struct ForcedTarget: Sendable, Hashable {
    public var sourceID: Int64
    public var ra: Double
    public var dec: Double
}

/// A star detected on the frame, whose catalogue magnitude calibrates the forced photometry.
public struct CalibrationStar: Sendable, Hashable {
    public var ra: Double
    public var dec: Double
    public var aperMag3: Double
}

/// One slot frame of a frame set and the positions to measure on it.
public struct RemeasurementFrame: Sendable {
    public var frameSetID: Int64
    public var slot: Int
    public var filterID: Int16
    public var multiframeID: Int64
    public var extNum: Int16
    /// The image file in the archive.
    public var fileName: String
    /// Aperture radius (arcsec) and the frame's pixel size (arcsec).
    public var aperture: Double
    public var pixelSize: Double
    public var targets: [ForcedTarget]
    public var calibrators: [CalibrationStar]
}

extension QueryHandler {
    /// CU9's work: current frame sets of the programme not yet list-processed
    /// (`curation.cu9_due`).
    public func frameSetsToRemeasure(programmeID: Int32) throws(WrapperError) -> [Int64] {
        try run("list the frame sets CU9 has to do") {
            try connection.query("SELECT x FROM curation.cu9_due($1) AS x", [.int64(Int64(programmeID))])
                .map { try $0.decode(Int64.self, "x") }
        }
    }

    /// The slot frames of `frameSetIDs` with the positions to measure on each
    /// (`curation.cu9_targets`) and the frame's well-measured stars (class −1, aperMag3 error
    /// ≤ 0.05, no error bits) to calibrate against. Every slot frame is listed, also one with
    /// nothing to measure.
    public func remeasurementFrames(programme: ProgrammeInfo, frameSetIDs: [Int64]) throws(WrapperError) -> [RemeasurementFrame] {
        guard !frameSetIDs.isEmpty else { return [] }
        return try run("list the positions CU9 measures") {
            let ids = "{" + frameSetIDs.map(String.init).joined(separator: ",") + "}"
            var frames: [String: RemeasurementFrame] = [:]
            var order: [String] = []
            func key(_ fs: Int64, _ slot: Int) -> String { "\(fs)/\(slot)" }
            // Every slot frame of the frame sets, targets or not.
            let log = try PostgresIdentifier(try connection.queryValue(String.self, """
                SELECT lower(mergeLogTable) FROM Programme WHERE programmeID = \(programme.programmeID)
                """))
            for row in try connection.query("""
                SELECT s.slot, s.filterID, s.prefix,
                       coalesce((SELECT r.aperture FROM RequiredListDrivenProduct r
                                 WHERE r.programmeID = $1 AND r.filterID IN (0, s.filterID) ORDER BY r.filterID DESC LIMIT 1), 1.0) AS aperture
                FROM curation.merge_slots($1) s ORDER BY s.slot
                """, [.int64(Int64(programme.programmeID))]) {
                let slot = Int(try row.decode(Int32.self, "slot"))
                let prefix = try row.decode(String.self, "prefix")
                let mf = try PostgresIdentifier("\(prefix)mfID".lowercased()), en = try PostgresIdentifier("\(prefix)eNum".lowercased())
                for f in try connection.query(PostgresQuery(unsafeSQL: """
                    SELECT l.frameSetID, l.\(mf.sql) AS multiframeID, l.\(en.sql) AS extNum, m.fileName, a.xPixSize
                    FROM \(log.sql) l JOIN Multiframe m ON m.multiframeID = l.\(mf.sql)
                    JOIN CurrentAstrometry a ON a.multiframeID = l.\(mf.sql) AND a.extNum = l.\(en.sql)
                    WHERE l.frameSetID = ANY('\(ids)'::bigint[])
                    """)) {
                    let fs = try f.decode(Int64.self, "framesetid")
                    frames[key(fs, slot)] = RemeasurementFrame(
                        frameSetID: fs, slot: slot, filterID: try row.decode(Int16.self, "filterid"),
                        multiframeID: try f.decode(Int64.self, "multiframeid"), extNum: try f.decode(Int16.self, "extnum"),
                        fileName: try f.decode(String.self, "filename"), aperture: Double(try row.decode(Float.self, "aperture")),
                        pixelSize: Double(try f.decode(Float.self, "xpixsize")), targets: [], calibrators: [])
                    order.append(key(fs, slot))
                }
            }
            for row in try connection.query("SELECT * FROM curation.cu9_targets($1, $2::bigint[])",
                                            [.int64(Int64(programme.programmeID)), .text(ids)]) {
                let k = key(try row.decode(Int64.self, "framesetid"), Int(try row.decode(Int32.self, "slot")))
                frames[k]?.targets.append(ForcedTarget(sourceID: try row.decode(Int64.self, "sourceid"),
                                                       ra: try row.decode(Double.self, "sourcera"),
                                                       dec: try row.decode(Double.self, "sourcedec")))
            }
            let detections = try PostgresIdentifier(programme.detectionTable.lowercased())
            for k in order where !(frames[k]?.targets.isEmpty ?? true) {
                let frame = frames[k]!
                frames[k]?.calibrators = try connection.query(PostgresQuery(unsafeSQL: """
                    SELECT ra, dec, aperMag3 FROM \(detections.sql)
                    WHERE multiframeID = \(frame.multiframeID) AND extNum = \(frame.extNum)
                      AND class = -1 AND aperMag3 > -1e8 AND aperMag3Err BETWEEN 0 AND 0.05 AND errBits = 0
                    """)).map {
                    CalibrationStar(ra: try $0.decode(Double.self, "ra"), dec: try $0.decode(Double.self, "dec"),
                                    aperMag3: Double(try $0.decode(Float.self, "apermag3")))
                }
            }
            return order.compactMap { frames[$0] }
        }
    }

    /// The programme's ListRemeasurement table.
    public func listRemeasurementTable(programmeID: Int32) throws(WrapperError) -> String {
        try run("look up the list remeasurement table") {
            try connection.queryValue(String.self, "SELECT listRemeasTable FROM Programme WHERE programmeID = \(programmeID)")
        }
    }
}
