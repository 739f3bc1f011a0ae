public import Foundation
import TransactionFormat

/// One forced measurement of CU9 (a row of `<prog>ListRemeasurement`).
public struct ForcedMeasurement: Sendable, Hashable {
    public var multiframeID: Int64
    public var extNum: Int16
    /// Running number in the frame's list (1…).
    public var seqNum: Int32
    public var sourceID: Int64
    public var frameSetID: Int64
    public var filterID: Int16
    /// FITS pixel position (1-based).
    public var x: Float
    public var y: Float
    public var ra: Double
    public var dec: Double
    /// Sky-subtracted flux in the aperture (ADU) and its error; WSA null when not measured.
    public var aperFlux3: Float
    public var aperFlux3Err: Float
    /// Calibrated magnitude and error; WSA null when the flux is not positive.
    public var aperMag3: Float
    public var aperMag3Err: Float
    /// Sky level and rms per pixel (ADU) from the annulus.
    public var sky: Float
    public var skyVar: Float
    /// 1 aperture off the image, 2 unusable pixels inside it, 4 flux not positive.
    public var errBits: Int32

    public init(multiframeID: Int64, extNum: Int16, seqNum: Int32, sourceID: Int64, frameSetID: Int64, filterID: Int16,
                x: Float, y: Float, ra: Double, dec: Double, aperFlux3: Float, aperFlux3Err: Float, aperMag3: Float,
                aperMag3Err: Float, sky: Float, skyVar: Float, errBits: Int32) {
        self.multiframeID = multiframeID
        self.extNum = extNum
        self.seqNum = seqNum
        self.sourceID = sourceID
        self.frameSetID = frameSetID
        self.filterID = filterID
        self.x = x
        self.y = y
        self.ra = ra
        self.dec = dec
        self.aperFlux3 = aperFlux3
        self.aperFlux3Err = aperFlux3Err
        self.aperMag3 = aperMag3
        self.aperMag3Err = aperMag3Err
        self.sky = sky
        self.skyVar = skyVar
        self.errBits = errBits
    }
}

enum ListDrivenTables {
    /// The columns of a programme's ListRemeasurement table (`table`), `cuEventID` last.
    static func listRemeasurement(_ table: String) -> TableColumns<ArchiveTables.Run<ForcedMeasurement>> {
        TableColumns(table, [
            .init("multiframeID") { $0.record.multiframeID },
            .init("extNum") { $0.record.extNum },
            .init("seqNum") { $0.record.seqNum },
            .init("sourceID") { $0.record.sourceID },
            .init("frameSetID") { $0.record.frameSetID },
            .init("filterID") { $0.record.filterID },
            .init("x") { $0.record.x },
            .init("y") { $0.record.y },
            .init("ra") { $0.record.ra },
            .init("dec") { $0.record.dec },
            .init("aperFlux3") { $0.record.aperFlux3 },
            .init("aperFlux3Err") { $0.record.aperFlux3Err },
            .init("aperMag3") { $0.record.aperMag3 },
            .init("aperMag3Err") { $0.record.aperMag3Err },
            .init("sky") { $0.record.sky },
            .init("skyVar") { $0.record.skyVar },
            .init("errBits") { $0.record.errBits },
            .init("cuEventID") { $0.cuEventID },
        ])
    }
}
