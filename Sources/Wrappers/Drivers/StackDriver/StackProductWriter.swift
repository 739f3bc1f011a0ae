import WrapperCore
import FITS
import Foundation
import AppDriver

/// Writes a stack or mosaic and its confidence map through ``ProductFiles`` (hidden temporary
/// names beside the final paths; ``commit()`` makes both durable and renames them, ``discard()``
/// removes them): the headers and confidence of each SWarp co-add.
final class StackProductWriter {
    let files: ProductFiles
    private var primaryHeader = FITSHeader()

    /// Keywords of one detector that mean nothing on a mosaic (or are measured again).
    static let detectorKeywords: Set<String> = ["CAMNUM", "DETECTID", "CNFINDEX", "DROWS", "DCOLUMNS", "DET_TEMP"]
    static let remeasured: Set<String> = ["SKYLEVEL", "SKYNOISE", "ELLIPTIC", "SEEING", "CIR_CPM"]

    init(image: URL, confidence: URL) throws(WrapperError) {
        files = try ProductFiles(image: image, confidence: confidence)
    }

    /// The data-less primary HDU of both files (its DATE-OBS, DATE-END go on every extension).
    func writePrimaries(_ header: FITSHeader) throws(WrapperError) {
        try files.writePrimaries(header)
        primaryHeader = header
    }

    /// One image extension (float32) and its confidence extension (int16, median 100 on pixels
    /// with weight).
    func append(_ coadd: StackDriver.Coadd, kind: StackProduct.Kind, frames: [StackInput],
                detectorIndex: Int?, hdu: Int) throws(WrapperError) -> StackProduct.Extension {
        let conf = Self.confidence(coadd.weights)
        let (level, noise) = RobustStatistics.skyStatistics(coadd.pixels, confidence: conf)
        let reference = frames[0]
        let detector = detectorIndex.map { reference.detectors[$0] } ?? reference.detectors[0]
        let seeing = coadd.seeing.isEmpty ? nil : coadd.seeing.reduce(0, +) / Double(coadd.seeing.count)

        var drop = Self.remeasured
        if kind == .mosaic { drop.formUnion(Self.detectorKeywords) }
        let wcs = Self.wcsCards(swarp: coadd.header, reference: coadd.referenceHeader)

        var header = StackHeaderCards.copyable(coadd.referenceHeader, dropWCS: true, drop: drop)
        header.cards += wcs.cards
        StackHeaderCards.describe(&header, kind: kind, frames: frames, endHeader: FITSHeader(),
                             detectorIndex: detectorIndex)
        header.set("MAGZPT", .double(detector.magZpt), comment: "[mag] Photometric ZP for default extinction")
        header.set("SKYLEVEL", .double(Self.rounded(level)), comment: "[ADU] Median sky, after sky subtraction")
        header.set("SKYNOISE", .double(Self.rounded(noise)), comment: "[ADU] Pixel noise at sky level")
        if let seeing {
            header.set("SEEING", .double(Self.rounded(seeing)), comment: "[pixels] Mean FWHM of the inputs")
        }
        header.set("CIR_CPM", .string("\(files.confidenceName)[\(hdu - 1)]"), comment: "Confidence map")
        dates(&header)
        header.append(FITSCard("HISTORY", nil, comment: "SWarp weighted mean of \(frames.count) frames (\(kind.rawValue).swarp)"))

        var confHeader = StackHeaderCards.copyable(coadd.referenceConfidenceHeader, dropWCS: true, drop: drop)
        confHeader.cards += wcs.cards
        StackHeaderCards.describe(&confHeader, kind: kind, frames: frames, endHeader: FITSHeader(),
                             detectorIndex: detectorIndex)
        dates(&confHeader)

        try files.append(pixels: coadd.pixels, header: header, confidence: conf, confidenceHeader: confHeader,
                         width: coadd.width, height: coadd.height, hdu: hdu)
        return StackProduct.Extension(hdu: hdu, camNum: kind == .stack ? detector.camNum : nil,
                                      width: coadd.width, height: coadd.height, magZpt: detector.magZpt,
                                      skyLevel: level, skyNoise: noise, seeing: seeing)
    }

    /// DATE-OBS and DATE-END of the primary header beside MJD-OBS and MJD-END (without them
    /// wcslib's `datfix`, and so astropy, adds them with a warning).
    private func dates(_ header: inout FITSHeader) {
        for keyword in ["DATE-OBS", "DATE-END"] {
            if let value = primaryHeader.string(keyword) {
                let comment = primaryHeader.cards.first { $0.keyword == keyword }?.comment ?? ""
                header.set(keyword, .string(value), comment: comment)
            }
        }
    }

    /// Makes both files durable under their final names (``ProductFiles/commit()``).
    func commit() throws(WrapperError) { try files.commit() }

    /// Closes and removes the temporary files unless committed (``ProductFiles/discard()``).
    func discard() { files.discard() }

    // MARK: - Helpers

    /// SWarp's TAN WCS, labelled with the inputs' reference system (SWarp's `CELESTIAL_TYPE
    /// NATIVE` does not convert coordinates, though it writes `ICRS`).
    static func wcsCards(swarp: FITSHeader, reference: FITSHeader) -> FITSHeader {
        var cards = FITSHeader()
        for keyword in ["CTYPE1", "CTYPE2", "CUNIT1", "CUNIT2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2",
                        "CD1_1", "CD1_2", "CD2_1", "CD2_2"] {
            if let value = swarp[keyword] {
                cards.append(FITSCard(keyword, value,
                                      comment: swarp.cards.first { $0.keyword == keyword }?.comment ?? ""))
            }
        }
        let system = reference.string("RADESYS") ?? reference.string("RADECSYS") ?? swarp.string("RADESYS") ?? "ICRS"
        cards.append(FITSCard("RADESYS", .string(system), comment: "Mean IAU 1984 equatorial co-ordinates"))
        if system.uppercased().hasPrefix("FK") {
            let equinox = reference.double("EQUINOX") ?? swarp.double("EQUINOX") ?? 2000
            cards.append(FITSCard("EQUINOX", .double(equinox), comment: "[yr] Equinox of object position"))
        }
        return cards
    }

    /// Confidence from SWarp's weights: 100 × w / median(w > 0), at least 1 where w > 0.
    static func confidence(_ weights: [Float]) -> [Int16] {
        var live = RobustStatistics.liveSample(weights, weights: weights)
        guard !live.isEmpty else { return [Int16](repeating: 0, count: weights.count) }
        let median = Double(RobustStatistics.median(&live))
        guard median > 0 else { return [Int16](repeating: 0, count: weights.count) }
        let scale = Float(100 / median)
        return weights.withUnsafeBufferPointer { w in
            [Int16](unsafeUninitializedCapacity: w.count) { out, count in
                for i in 0..<w.count {
                    let v = w[i]
                    out[i] = v > 0 && v.isFinite ? Int16(max(1, min(32767, (v * scale).rounded()))) : 0
                }
                count = w.count
            }
        }
    }

    private static func rounded(_ value: Double) -> Double { (value * 1e4).rounded() / 1e4 }
}
