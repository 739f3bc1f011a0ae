import Foundation

/// One load, as the server's metrics see it.
public struct LoadObservation: Sendable {
    public var table: String
    public var rows: Int
    public var bytes: Int
    public var seconds: Double
    public var alreadyLoaded: Bool
}
