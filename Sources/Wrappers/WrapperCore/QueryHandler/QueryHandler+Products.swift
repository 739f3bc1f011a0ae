import Foundation
import Postgres
public import AppDriver

/// A current frame (image with its confidence map) that can go into a product.
public struct ProductInput: Sendable, Hashable {
    public var multiframeID: Int64
    public var fileName: String
    /// The confidence map's file (Multiframe of confID).
    public var confName: String
    public var filterID: Int16
    public var filterName: String
    /// The base position of the pointing (RABASE converted to degrees, DECBASE).
    public var raBase: Double
    public var decBase: Double
    public var mjdObs: Double
}

/// A product of CU13 to make, or to make again: `inputs` is everything it must hold (the
/// inputs of `current` still current, and the frames not in it yet).
public struct PendingProduct: Sendable, Hashable {
    /// ``FrameType/stack`` or ``FrameType/mosaic``.
    public var kind: FrameType
    public var programmeID: Int32
    public var filterID: Int16
    public var filterName: String
    /// The field's base position (degrees; the first frame's), for a stack.
    public var raBase: Double
    public var decBase: Double
    public var inputs: [ProductInput]
    /// The product it replaces (deprecated when the new one commits), if any.
    public var current: ExistingProduct?
    /// Inputs not in `current`.
    public var newFrames: Int
}

/// A product in Multiframe with the inputs Provenance records for it.
public struct ExistingProduct: Sendable, Hashable {
    public var multiframeID: Int64
    public var fileName: String
    public var version: Int32
    public var frameType: FrameType
    public var filterID: Int16
    public var raBase: Double
    public var decBase: Double
    public var confID: Int64
    public var inputs: [Int64]
}

/// An H2 frame and the continuum (K) frame of its field to subtract from it (CU5).
public struct PendingDiff: Sendable, Hashable {
    public var programmeID: Int32
    public var line: ProductInput
    public var continuum: ProductInput
    /// The difference image of `line` it replaces (its continuum frame was superseded).
    public var current: ExistingProduct?
}

/// A stack or mosaic whose sources CU14 has not extracted yet.
public struct PendingExtraction: Sendable, Hashable {
    public var multiframeID: Int64
    public var fileName: String
    public var confName: String
    public var programmeID: Int32
    public var filterID: Int16
    public var detectionTable: String
    /// extNum → zero point at the reference frame's airmass (MAGZPT − EXTINCT·(X − 1)).
    public var extensions: [Int16: Double]
    /// EXP_TIME: pixel values are counts per exposure of this length.
    public var expTime: Double
}

extension QueryHandler {
    /// Two base positions closer than this (arcseconds) are one field.
    public static let fieldTolerance = 60.0

    /// The products `programmeID`'s prescription (RequiredStack) asks for that are missing or
    /// out of date: per passband, one stack per field of at least `minFrames` current frames
    /// and, where asked for, one mosaic of every current frame. A product is out of date when
    /// its inputs differ from the current frames of its field (a new frame, or an input
    /// superseded by a new version). Frames whose files were quarantined are left out.
    public func findNonStacked(programmeID: Int32) throws(WrapperError) -> [PendingProduct] {
        let required = try run("read the stack prescription") {
            try connection.query("""
                SELECT r.filterID, r.productType, r.minFrames FROM RequiredStack r
                WHERE r.programmeID = $1 ORDER BY r.filterID, r.productType DESC
                """, [.int32(programmeID)]).map {
                (filterID: try $0.decode(Int16.self, "filterid"), kind: try Self.frameType(try $0.decode(String.self, "producttype")),
                 minFrames: Int(try $0.decode(Int16.self, "minframes")))
            }
        }
        guard !required.isEmpty else { return [] }
        let frames = try currentFrames(programmeID: programmeID)
        let products = try existingProducts(programmeID: programmeID, frameTypes: [.stack, .mosaic])
        var pending: [PendingProduct] = []
        for rule in required {
            let inBand = frames.filter { $0.filterID == rule.filterID }
            let made = products.filter { $0.frameType == rule.kind && $0.filterID == rule.filterID }
            let groups = rule.kind == .stack ? Self.fields(inBand) : (inBand.isEmpty ? [] : [inBand])
            var claimed = Set<Int64>()
            for group in groups where group.count >= rule.minFrames {
                let ids = Set(group.map(\.multiframeID))
                let first = group[0]
                let current = made.first { p in
                    !claimed.contains(p.multiframeID)
                        && (rule.kind == .mosaic || !ids.isDisjoint(with: p.inputs)
                            || Self.separation(p.raBase, p.decBase, first.raBase, first.decBase) < Self.fieldTolerance)
                }
                if let current { claimed.insert(current.multiframeID) }
                if let current, Set(current.inputs) == ids { continue }
                pending.append(PendingProduct(
                    kind: rule.kind, programmeID: programmeID, filterID: rule.filterID, filterName: first.filterName,
                    raBase: first.raBase, decBase: first.decBase, inputs: group, current: current,
                    newFrames: ids.subtracting(current?.inputs ?? []).count))
            }
        }
        return pending
    }

    /// The frames of `lineFilter` (H2) of `programmeID` without a current difference image
    /// against a current frame of `continuumFilter` (K) of the same field: each is paired with
    /// the continuum frame of its field nearest in time.
    public func findNonDiffed(programmeID: Int32, lineFilter: String, continuumFilter: String) throws(WrapperError)
        -> [PendingDiff]
    {
        let frames = try currentFrames(programmeID: programmeID)
        let lines = frames.filter { $0.filterName == lineFilter }
        let continua = frames.filter { $0.filterName == continuumFilter }
        let diffs = try existingProducts(programmeID: programmeID, frameTypes: [.diff])
        let currentIDs = Set(frames.map(\.multiframeID))
        let names = try fileNames(of: diffs.compactMap(\.inputs.first).filter { !currentIDs.contains($0) })
        var pending: [PendingDiff] = []
        for line in lines {
            let candidates = continua.filter {
                Self.separation($0.raBase, $0.decBase, line.raBase, line.decBase) < Self.fieldTolerance
            }
            guard let continuum = candidates.min(by: { abs($0.mjdObs - line.mjdObs) < abs($1.mjdObs - line.mjdObs) })
            else { continue }
            // The difference image of this frame, else that of an earlier version of it.
            let existing = diffs.first { $0.inputs.first == line.multiframeID } ?? diffs.first {
                guard let first = $0.inputs.first, !currentIDs.contains(first), let name = names[first] else { return false }
                return (name as NSString).lastPathComponent == (line.fileName as NSString).lastPathComponent
            }
            if let existing, existing.inputs.count == 2, currentIDs.contains(existing.inputs[1]) { continue }
            pending.append(PendingDiff(programmeID: programmeID, line: line, continuum: continuum, current: existing))
        }
        return pending
    }

    /// CU5's work: every pair of the programme's prescription (``requiredDiffs(programmeID:)``)
    /// whose line frame has no current difference image (``findNonDiffed``). CU5 and curate
    /// both ask this.
    public func diffsToMake(programmeID: Int32) throws(WrapperError) -> [PendingDiff] {
        var pending: [PendingDiff] = []
        for pair in try requiredDiffs(programmeID: programmeID) {
            pending += try findNonDiffed(programmeID: programmeID, lineFilter: pair.line, continuumFilter: pair.continuum)
        }
        return pending
    }

    /// The difference pairs `programmeID`'s prescription (RequiredDiff) asks for: (line, continuum)
    /// filter names.
    public func requiredDiffs(programmeID: Int32) throws(WrapperError) -> [(line: String, continuum: String)] {
        try run("read the difference prescription") {
            try connection.query("""
                SELECT a.shortName AS line, b.shortName AS continuum FROM RequiredDiff r
                JOIN Filter a ON a.filterID = r.filterID JOIN Filter b ON b.filterID = r.contFilterID
                WHERE r.programmeID = $1 ORDER BY r.filterID
                """, [.int32(programmeID)]).map {
                (line: try $0.decode(String.self, "line"), continuum: try $0.decode(String.self, "continuum"))
            }
        }
    }

    /// Current stacks and mosaics of `programmeID` whose detections are not loaded yet.
    public func productsToExtract(programmeID: Int32? = nil) throws(WrapperError) -> [PendingExtraction] {
        try run("find products to extract") {
            try connection.query("""
                SELECT m.multiframeID, m.fileName, c.fileName AS confname, m.programmeID, m.filterID,
                       p.detectionTable, m.expTime,
                       array_to_string(ARRAY(SELECT d.extNum || ':' || (d.photZPCat - CASE
                                                 WHEN d.extinctionCat > -1e8 AND m.amStart > -1e8 AND m.amEnd > -1e8
                                                 THEN d.extinctionCat * ((m.amStart + m.amEnd) / 2 - 1) ELSE 0 END)
                                             FROM MultiframeDetector d
                                             WHERE d.multiframeID = m.multiframeID ORDER BY d.extNum), ',') AS zps
                FROM Multiframe m JOIN Programme p USING (programmeID)
                JOIN Multiframe c ON c.multiframeID = m.confID
                WHERE m.frameType IN ('stack', 'mosaic') AND m.deprecated = 0
                  AND ($1::integer IS NULL OR m.programmeID = $1)
                  AND NOT EXISTS (SELECT 1 FROM CatalogueIngest i WHERE i.multiframeID = m.multiframeID)
                ORDER BY m.multiframeID
                """, [programmeID.map { .int32($0) }]).map { row in
                var zeroPoints: [Int16: Double] = [:]
                for pair in try row.decode(String.self, "zps").split(separator: ",") {
                    let parts = pair.split(separator: ":")
                    if parts.count == 2, let ext = Int16(parts[0]), let zp = Double(parts[1]) { zeroPoints[ext] = zp }
                }
                return PendingExtraction(
                    multiframeID: try row.decode(Int64.self, "multiframeid"), fileName: try row.decode(String.self, "filename"),
                    confName: try row.decode(String.self, "confname"),
                    programmeID: try row.decode(Int32.self, "programmeid"), filterID: try row.decode(Int16.self, "filterid"),
                    detectionTable: try row.decode(String.self, "detectiontable"), extensions: zeroPoints,
                    expTime: Double(try row.decode(Float.self, "exptime")))
            }
        }
    }

    /// The highest version among the Multiframe files whose names start with `prefix` (0 when
    /// there is none).
    public func latestVersion(ofFilesStartingWith prefix: String) throws(WrapperError) -> Int32 {
        try run("read product versions") {
            try connection.query("SELECT coalesce(max(version), 0)::integer AS v FROM Multiframe WHERE starts_with(fileName, $1)",
                                 [.text(prefix)]).first.map { try $0.decode(Int32.self, "v") } ?? 0
        }
    }

    /// The file names of these Multiframe rows.
    public func fileNames(of ids: [Int64]) throws(WrapperError) -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        return try run("look up frames") {
            var names: [Int64: String] = [:]
            for row in try connection.query("SELECT multiframeID, fileName FROM Multiframe WHERE multiframeID = ANY($1::bigint[])",
                                            [.text("{" + ids.map(String.init).joined(separator: ",") + "}")]) {
                names[try row.decode(Int64.self, "multiframeid")] = try row.decode(String.self, "filename")
            }
            return names
        }
    }

    // MARK: Helpers

    /// The current frames (frameType normal) of `programmeID` with a current confidence map and a
    /// base position, none of their files quarantined.
    private func currentFrames(programmeID: Int32) throws(WrapperError) -> [ProductInput] {
        try run("list frames for products") {
            try connection.query("""
                SELECT m.multiframeID, m.fileName, c.fileName AS confname, m.filterID, f.shortName, m.raBase, m.decBase,
                       m.mjdObs
                FROM Multiframe m JOIN Filter f USING (filterID) JOIN Multiframe c ON c.multiframeID = m.confID
                WHERE m.programmeID = $1 AND m.frameType = 'normal' AND m.deprecated = 0 AND c.deprecated = 0
                  AND m.raBase > -1e8 AND m.decBase > -1e8
                  AND NOT EXISTS (SELECT 1 FROM Quarantine q WHERE q.fileName IN (m.fileName, c.fileName))
                ORDER BY m.mjdObs, m.fileName
                """, [.int32(programmeID)]).map {
                ProductInput(multiframeID: try $0.decode(Int64.self, "multiframeid"), fileName: try $0.decode(String.self, "filename"),
                             confName: try $0.decode(String.self, "confname"), filterID: try $0.decode(Int16.self, "filterid"),
                             filterName: try $0.decode(String.self, "shortname"),
                             raBase: try $0.decode(Double.self, "rabase") * 15, decBase: try $0.decode(Double.self, "decbase"),
                             mjdObs: try $0.decode(Double.self, "mjdobs"))
            }
        }
    }

    /// Current products of these frame types with their inputs (in Provenance order).
    public func existingProducts(programmeID: Int32, frameTypes: [FrameType]) throws(WrapperError) -> [ExistingProduct] {
        try run("list products") {
            try connection.query("""
                SELECT m.multiframeID, m.fileName, m.version, m.frameType, m.filterID, m.raBase, m.decBase, m.confID,
                       array_to_string(ARRAY(SELECT v.multiframeID FROM Provenance v
                                             WHERE v.combiframeID = m.multiframeID ORDER BY v.inputOrder), ',') AS inputs
                FROM Multiframe m
                WHERE m.programmeID = $1 AND m.frameType = ANY($2::text[]) AND m.deprecated = 0
                ORDER BY m.multiframeID
                """, [.int32(programmeID), .text(Self.textArray(frameTypes.map(\.rawValue)))]).map {
                ExistingProduct(multiframeID: try $0.decode(Int64.self, "multiframeid"), fileName: try $0.decode(String.self, "filename"),
                                version: try $0.decode(Int32.self, "version"), frameType: try Self.frameType(try $0.decode(String.self, "frametype")),
                                filterID: try $0.decode(Int16.self, "filterid"),
                                raBase: try $0.decode(Double.self, "rabase") * 15, decBase: try $0.decode(Double.self, "decbase"),
                                confID: try $0.decode(Int64.self, "confid"),
                                inputs: try $0.decode(String.self, "inputs").split(separator: ",").compactMap { Int64($0) })
            }
        }
    }

    /// Frames grouped by field: a frame joins the first group whose first frame's base is within
    /// ``fieldTolerance``.
    static func fields(_ frames: [ProductInput]) -> [[ProductInput]] {
        var groups: [[ProductInput]] = []
        for frame in frames {
            if let i = groups.firstIndex(where: {
                separation($0[0].raBase, $0[0].decBase, frame.raBase, frame.decBase) < fieldTolerance
            }) {
                groups[i].append(frame)
            } else {
                groups.append([frame])
            }
        }
        return groups
    }

    /// Angular separation in arcseconds (haversine).
    static func separation(_ ra1: Double, _ dec1: Double, _ ra2: Double, _ dec2: Double) -> Double {
        let r = Double.pi / 180
        let a = pow(sin((dec2 - dec1) * r / 2), 2) + cos(dec1 * r) * cos(dec2 * r) * pow(sin((ra2 - ra1) * r / 2), 2)
        return 2 * asin(min(1, sqrt(a))) / r * 3600
    }
}
