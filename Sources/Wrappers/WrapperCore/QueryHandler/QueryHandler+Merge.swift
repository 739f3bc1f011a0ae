import Foundation
public import AppDriver
import Postgres

/// A detector frame whose detections have no spatial attributes yet (CU6's work).
public struct FrameToIndex: Sendable, Hashable {
    public var multiframeID: Int64
    public var fileName: String
    /// Detections of the frame (from CatalogueIngest).
    public var rows: Int
}

/// A frame set CU8 will (re)merge: the current frameSetID of one that changes, or a new one.
public struct FrameSetToMerge: Sendable, Hashable {
    /// The current frameSetID (positive), or a negative key for a frame set not merged before.
    public var key: Int64
    /// The frames chosen for its slots (none: all its frames are gone and it is retired).
    public var frames: Int
    /// Centre of its first chosen frame (degrees), for listing.
    public var ra: Double
    public var dec: Double

    public var isNew: Bool { key < 0 }
    /// One line for `--dry-run` and `curate`.
    public var description: String {
        let what = isNew ? "new frame set" : "frame set \(key)"
        if frames == 0 { return "retire \(what) (its frames are gone)" }
        return String(format: "merge %@ at %.5f %+.5f from %d frame(s)", what, ra, dec, frames)
    }
}

/// What the merged catalogue of a programme holds, for summaries.
public struct MergedCatalogueCounts: Sendable, Hashable {
    public var frameSets: Int
    public var sources: Int
    /// Sources of the seamless selection, (priOrSec = 0 OR priOrSec = frameSetID).
    public var seamless: Int
}

extension QueryHandler {
    /// CU6's work: frames of the programme whose detections are loaded but have no spatial
    /// attributes yet (no SpatialIndexLog row), and frames (confidence maps, difference images
    /// too) whose CurrentAstrometry rows have none, oldest first.
    public func framesToIndex(programmeID: Int32) throws(WrapperError) -> [FrameToIndex] {
        try run("list the frames CU6 has to do") {
            try connection.query("""
                SELECT m.multiframeID, m.fileName, coalesce(c.rowsLoaded, 0) AS rowsLoaded
                FROM Multiframe m LEFT JOIN CatalogueIngest c USING (multiframeID)
                WHERE m.programmeID = $1
                  AND ((c.multiframeID IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM SpatialIndexLog s
                                        WHERE s.multiframeID = c.multiframeID AND s.tableName = lower(c.detectionTable)))
                       OR EXISTS (SELECT 1 FROM CurrentAstrometry a
                                  WHERE a.multiframeID = m.multiframeID AND a.cx < -2 AND a.centralRa > -1e8))
                ORDER BY m.multiframeID
                """, [.int32(programmeID)]).map {
                FrameToIndex(multiframeID: try $0.decode(Int64.self, "multiframeid"),
                             fileName: try $0.decode(String.self, "filename"),
                             rows: try $0.decode(Int.self, "rowsloaded"))
            }
        }
    }

    /// CU8's work: the frame sets of the programme whose prescribed frames changed, as
    /// `curation.cu8_plan` on the load server decides (docs/cu/cu8.md).
    public func frameSetsToMerge(programmeID: Int32) throws(WrapperError) -> [FrameSetToMerge] {
        try run("plan the merge") {
            try connection.query("""
                SELECT frameSetKey, count(slot)::integer AS frames,
                       coalesce(min(centralRa), 0) AS ra, coalesce(min(centralDec), 0) AS dec
                FROM curation.cu8_plan($1) GROUP BY frameSetKey ORDER BY frameSetKey
                """, [.int64(Int64(programmeID))]).map {
                FrameSetToMerge(key: try $0.decode(Int64.self, "framesetkey"), frames: Int(try $0.decode(Int32.self, "frames")),
                                ra: try $0.decode(Double.self, "ra"), dec: try $0.decode(Double.self, "dec"))
            }
        }
    }

    /// Current frame sets, sources and seamless sources of the programme's merged catalogue
    /// (`curation.catalogue_counts`).
    public func mergedCatalogueCounts(programmeID: Int32) throws(WrapperError) -> MergedCatalogueCounts {
        try run("count the merged catalogue") {
            let row = try connection.query("SELECT * FROM curation.catalogue_counts($1)", [.int64(Int64(programmeID))])[0]
            return MergedCatalogueCounts(frameSets: try row.decode(Int.self, "framesets"), sources: try row.decode(Int.self, "sources"),
                                         seamless: try row.decode(Int.self, "seamless"))
        }
    }

    /// The curation tasks the programme requires (RequiredCurationTask), in their order.
    public func requiredCurationTasks(programmeID: Int32) throws(WrapperError) -> [Int] {
        try run("read the required curation tasks") {
            try connection.query("SELECT cuID FROM RequiredCurationTask WHERE programmeID = $1 ORDER BY taskOrder, cuID",
                                 [.int32(programmeID)]).map { Int(try $0.decode(Int16.self, "cuid")) }
        }
    }
}
