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

/// A frame set CU8 will (re)merge, or whose seaming is still due.
public struct FrameSetToMerge: Sendable, Hashable {
    /// The current frameSetID (positive), or a negative key for a frame set not merged before.
    public var key: Int64
    /// The frames chosen for its slots (none: all its frames are gone and it is retired).
    public var frames: Int
    /// Its centre (degrees), as `curation.cu8_merge` gives it: the direction of the sum of its
    /// chosen frames' centres (a frame set to retire keeps its own).
    public var ra: Double
    public var dec: Double
    /// q3c ipix of the centre: `cu8 --sessions` divides the work by ranges of it.
    public var ipix: Int64
    /// Only its seaming is due: it holds sources not seamed yet (priOrSec -99999999), or it was
    /// retired and its neighbours are not seamed again yet. A merge on several sessions leaves
    /// such frame sets between its merges and its seams, and a run killed in between leaves them
    /// for the next.
    public var seamOnly: Bool

    public init(key: Int64, frames: Int, ra: Double, dec: Double, ipix: Int64, seamOnly: Bool) {
        self.key = key
        self.frames = frames
        self.ra = ra
        self.dec = dec
        self.ipix = ipix
        self.seamOnly = seamOnly
    }

    public var isNew: Bool { key < 0 }
    /// One line for `--dry-run` and `curate`.
    public var description: String {
        if seamOnly { return "seam the sources of frame set \(key) and of its neighbours" }
        let what = isNew ? "new frame set" : "frame set \(key)"
        if frames == 0 { return "retire \(what) (its frames are gone)" }
        return String(format: "merge %@ at %.5f %+.5f from %d frame(s)", what, ra, dec, frames)
    }
}

extension FrameSetToMerge {
    /// `parts` half-open ranges of q3c ipix that together cover every ipix, cut between the
    /// frame sets of `pending` (by the ipix of their centres) so that each range holds about as
    /// many frame sets to merge (or, with none to merge, frame sets to seam): the work of one
    /// session each in `cu8 --sessions`. Fewer ranges when there are fewer frame sets.
    public static func ipixRanges(_ pending: [FrameSetToMerge], parts: Int) -> [Range<Int64>] {
        let toMerge = pending.filter { !$0.seamOnly }
        let keys = (toMerge.isEmpty ? pending : toMerge).map(\.ipix).sorted()
        guard parts > 1, keys.count > 1 else { return [DbHandler.wholeSky] }
        var cuts: [Int64] = []
        for i in 1..<parts {
            let cut = keys[i * keys.count / parts]
            if cut > (cuts.last ?? 0) { cuts.append(cut) }
        }
        let bounds = [DbHandler.wholeSky.lowerBound] + cuts + [DbHandler.wholeSky.upperBound]
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
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
    /// `curation.cu8_plan` on the load server decides (docs/cu/cu8.md), then those whose seaming
    /// is still due (`curation.cu8_due`).
    public func frameSetsToMerge(programmeID: Int32) throws(WrapperError) -> [FrameSetToMerge] {
        try run("plan the merge") {
            try connection.query("""
                SELECT frameSetKey, frames, centreRa, centreDec, ipix, seam FROM curation.cu8_due($1)
                """, [.int64(Int64(programmeID))]).map {
                FrameSetToMerge(key: try $0.decode(Int64.self, "framesetkey"), frames: Int(try $0.decode(Int32.self, "frames")),
                                ra: try $0.decode(Double.self, "centrera"), dec: try $0.decode(Double.self, "centredec"),
                                ipix: try $0.decode(Int64.self, "ipix"), seamOnly: try $0.decode(Bool.self, "seam"))
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
