public import Foundation
public import AppDriver

/// What CU1 has to do in one delivery night.
public struct NightSurvey: Sendable {
    public var night: String
    public var ready: Bool
    /// Why it is not ready, or how readiness was judged.
    public var reason: String
    /// The night's COMPLETE marker, fetched into the staging area (nil without one).
    public var marker: FetchedFile?
    /// Files to fetch and check by checksum: new names, and names whose delivery may have
    /// changed (the marker changed, or there is no marker and the size differs).
    public var candidates: [DeliveredFile]
    /// True when the marker equals the one already logged: nothing in the night changed.
    public var unchanged: Bool
}

/// Compares the delivery area with TransferLog: which nights are ready, and which files in
/// them are new or may have changed. Shared by CU1 and by curate's discovery of due work.
public struct DeliveryPlanner: Sendable {
    public let area: any DeliveryArea
    /// Where markers are fetched to be compared (`<archive>/.incoming` when fetching for real,
    /// a scratch directory when only looking).
    public let staging: URL

    public init(area: any DeliveryArea, staging: URL) {
        self.area = area
        self.staging = staging
    }

    /// Surveys every night of the area. `rehash`: every file of a ready night is a candidate,
    /// even when its marker says nothing changed.
    public func survey(query: QueryHandler, rehash: Bool = false) async throws(WrapperError) -> [NightSurvey] {
        var result: [NightSurvey] = []
        for night in try await area.nights() {
            result.append(try await survey(night: night, query: query, rehash: rehash))
        }
        return result
    }

    /// The identity of a night's marker in TransferLog.
    public static func markerName(night: String) -> String { "\(night)/COMPLETE" }

    func survey(night: String, query: QueryHandler, rehash: Bool) async throws(WrapperError) -> NightSurvey {
        let delivery = try await area.night(night)
        guard delivery.ready else {
            return NightSurvey(night: night, ready: false, reason: delivery.reason, marker: nil, candidates: [], unchanged: false)
        }
        let current = try query.currentTransfers(named: delivery.files.map(\.name) + [Self.markerName(night: night)])
        var marker: FetchedFile?
        if let file = delivery.marker {
            let staging = staging.appendingPathComponent(night, isDirectory: true).appendingPathComponent(file.name)
            marker = try await area.fetch(file, to: staging)
            if !rehash, let logged = current[Self.markerName(night: night)], logged.checksum == marker?.sha256 {
                try? FileManager.default.removeItem(at: staging)
                return NightSurvey(night: night, ready: true, reason: delivery.reason, marker: marker, candidates: [],
                                   unchanged: true)
            }
        }
        // Without a marker, files set aside before are not looked at again unless asked to.
        let setAside = marker == nil && !rehash
            ? try query.quarantinedPaths(delivery.files.map(\.relativePath)) : []
        let candidates = delivery.files.filter { file in
            guard let logged = current[file.name] else { return !setAside.contains(file.relativePath) }
            return rehash || marker != nil || logged.fileSize != file.size
        }
        return NightSurvey(night: night, ready: true, reason: delivery.reason, marker: marker, candidates: candidates,
                           unchanged: false)
    }
}
