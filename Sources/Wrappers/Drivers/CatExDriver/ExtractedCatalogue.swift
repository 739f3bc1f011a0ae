public import FITS
public import Foundation
import AppDriver
import WrapperCore

/// What `source-extractor` found on one image extension (``CatExDriver/extractSources(image:hdu:weight:zeroPoint:exposureTime:appDriver:workDirectory:timeout:)``),
/// with the calibration and the WCS needed to turn it into detection-table rows.
public struct ExtractedCatalogue: Sendable {
    /// The image and its HDU, as given to the driver.
    public var image: String
    public var hdu: Int
    /// The FITS_1.0 catalogue source-extractor wrote, kept in the work directory.
    public var catalogueFile: URL
    /// Magnitudes are `zeroPoint − 2.5 log10(F / exposureTime) − apertureCorrection`.
    public var zeroPoint: Double
    public var exposureTime: Double
    /// The catalogue's columns by source-extractor name, one value per detection; vector
    /// columns are split, `FLUX_APER(13)` → `FLUX_APER_1` … `FLUX_APER_13`.
    public var columns: [String: [Double]]
    /// Number of detections.
    public var rowCount: Int
    /// Sky positions (degrees) of X_IMAGE, Y_IMAGE through the image header's WCS.
    public var positions: [SkyPosition]
    /// Aperture corrections (mag, positive, CASU's APCORk) for apertures 1…13, derived from
    /// the image's own bright isolated stars as the median of m_k − m_ref, ref = aperture
    /// ``CatExDriver/referenceAperture``; 0 for the reference and wider apertures, and 0
    /// everywhere when fewer than ``minimumCorrectionStars`` stars qualify.
    public var apertureCorrections: [Double]
    /// How many stars the aperture corrections come from.
    public var correctionStars: Int
    /// DETECT_THRESH in sigmas (THRESHOLD / DETECT_THRESH is the local background noise).
    public var detectThreshold: Double
    /// The effective gain source-extractor used (e⁻/ADU; 0 = background noise only).
    public var effectiveGain: Double
    /// The image's size in pixels.
    public var width: Int
    public var height: Int
    /// The image HDU's WCS.
    let wcs: WCS

    /// Stars needed for aperture corrections.
    public static let minimumCorrectionStars = 3
    /// Whether enough stars qualified for aperture corrections (else they are all 0).
    public var hasApertureCorrection: Bool { correctionStars >= Self.minimumCorrectionStars }
    /// Signal-to-noise in the reference aperture a star needs to enter the aperture corrections.
    public static let correctionSignalToNoise = 30.0

    /// A column, or NaN everywhere when the catalogue lacks it.
    public func column(_ name: String) -> [Double] {
        columns[name] ?? [Double](repeating: .nan, count: rowCount)
    }

    /// Calibrated aperture magnitudes and errors of aperture `k` (1…13), aperture correction
    /// applied; the WSA null default where the flux is not positive.
    public func apertureMagnitudes(_ k: Int) -> (magnitudes: [Float], errors: [Float]) {
        let cal = calibration
        let flux = column("FLUX_APER_\(k)"), error = column("FLUXERR_APER_\(k)")
        let mags = flux.map { cal.magnitude(Float($0), apcor: apertureCorrections[k - 1]) }
        let errs = zip(flux, error).map { cal.magnitudeError(Float($0), Float($1)) }
        return (mags, errs)
    }

    var calibration: CASUCatalogue.Calibration {
        CASUCatalogue.Calibration(zeroPoint: zeroPoint, exposure: exposureTime, extinction: 0, airmass: 1,
                                  perCorr: 0, aperture: apertureCorrections)
    }

    /// Reads source-extractor's FITS_1.0 catalogue (the table in HDU 2).
    static func read(_ url: URL, image: String, hdu: Int, zeroPoint: Double, exposureTime: Double,
                     wcs: WCS, width: Int, height: Int, detectThreshold: Double,
                     effectiveGain: Double) throws(WrapperError)
        -> ExtractedCatalogue
    {
        var columns: [String: [Double]] = [:]
        var rows = 0
        do {
            let file = try FITSFile.open(url.path)
            defer { try? file.close() }
            try file.moveTo(hdu: 2)
            rows = try file.rowCount()
            for info in try file.columns() {
                if info.repeatCount <= 1 {
                    columns[info.name] = rows == 0 ? [] : try file.readColumn(info.index, as: Double.self)
                } else {
                    let n = info.repeatCount
                    let flat = rows == 0 ? [] : try file.readColumn(info.index, as: Double.self, count: rows * n)
                    for j in 0..<n {
                        columns["\(info.name)_\(j + 1)"] = (0..<rows).map { flat[$0 * n + j] }
                    }
                }
            }
        } catch {
            throw WrapperError(.failed, tool: CatExDriver.tool,
                               "\(CatExDriver.tool) wrote a catalogue that cannot be read: \(error)")
        }
        for name in ["NUMBER", "X_IMAGE", "Y_IMAGE", "FLUX_APER_13"] where columns[name] == nil {
            throw WrapperError(.failed, tool: CatExDriver.tool,
                               "\(CatExDriver.tool) catalogue has no \(name) column (check \(CatExDriver.parameterFile))")
        }
        let xs = columns["X_IMAGE"]!, ys = columns["Y_IMAGE"]!
        let positions: [SkyPosition]
        do {
            positions = try wcs.pixelToSky((0..<rows).map { PixelPosition(x: xs[$0], y: ys[$0]) })
        } catch {
            throw WrapperError(.noWCS, file: image, "HDU \(hdu): positions through the WCS failed: \(error)")
        }
        var catalogue = ExtractedCatalogue(
            image: image, hdu: hdu, catalogueFile: url, zeroPoint: zeroPoint, exposureTime: exposureTime,
            columns: columns, rowCount: rows, positions: positions,
            apertureCorrections: [Double](repeating: 0, count: 13), correctionStars: 0,
            detectThreshold: detectThreshold, effectiveGain: effectiveGain, width: width, height: height,
            wcs: wcs)
        (catalogue.apertureCorrections, catalogue.correctionStars) = catalogue.deriveApertureCorrections()
        return catalogue
    }

    /// CASU-style stellar aperture corrections from the curve of growth of bright, isolated,
    /// unflagged, compact sources: median m_k − m_ref after 3σ clipping (MAD) on aperture 3.
    /// FLAGS bit 16 (a wide aperture off the image) is allowed when the reference aperture is
    /// inside.
    func deriveApertureCorrections() -> ([Double], Int) {
        let none = ([Double](repeating: 0, count: 13), 0)
        let ref = CatExDriver.referenceAperture
        let radius = CatExDriver.apertureMultipliers[ref - 1] * CatExDriver.coreRadius
        let refFlux = column("FLUX_APER_\(ref)"), refErr = column("FLUXERR_APER_\(ref)")
        let flags = column("FLAGS"), weightFlags = column("FLAGS_WEIGHT")
        let x = column("X_IMAGE"), y = column("Y_IMAGE")
        let classStar = column("CLASS_STAR")
        let isolation = radius + 3
        var candidates: [Int] = []
        for i in 0..<rowCount {
            guard refFlux[i] > 0, refErr[i] > 0, refFlux[i] / refErr[i] >= Self.correctionSignalToNoise,
                  flags[i].isFinite, Int(flags[i]) & ~16 == 0, !(weightFlags[i] > 0), !(classStar[i] < 0.5),
                  x[i] - radius >= 0.5, y[i] - radius >= 0.5,
                  x[i] + radius <= Double(width) + 0.5, y[i] + radius <= Double(height) + 0.5
            else { continue }
            candidates.append(i)
        }
        guard candidates.count >= Self.minimumCorrectionStars else { return none }
        // Isolated from every other detection (a grid keeps this linear).
        var grid: [Int: [Int]] = [:]
        let cell = isolation
        func key(_ cx: Int, _ cy: Int) -> Int { cx &* 100_003 &+ cy }
        func cellOf(_ i: Int) -> (Int, Int) { (Int((x[i] / cell).rounded(.down)), Int((y[i] / cell).rounded(.down))) }
        for i in 0..<rowCount where x[i].isFinite && y[i].isFinite {
            let (cx, cy) = cellOf(i)
            grid[key(cx, cy), default: []].append(i)
        }
        candidates = candidates.filter { i in
            let (cx, cy) = cellOf(i)
            for dx in -1...1 {
                for dy in -1...1 {
                    for j in grid[key(cx + dx, cy + dy)] ?? [] where j != i {
                        if hypot(x[j] - x[i], y[j] - y[i]) < isolation { return false }
                    }
                }
            }
            return true
        }
        func difference(_ k: Int, _ i: Int) -> Double {
            let f = columns["FLUX_APER_\(k)"]?[i] ?? .nan
            return f > 0 ? 2.5 * log10(refFlux[i] / f) : .nan
        }
        // Clip on aperture 3 (the WSA's default magnitude).
        var kept = candidates.filter { difference(3, $0).isFinite }
        for _ in 0..<5 {
            let d = kept.map { difference(3, $0) }
            guard d.count >= Self.minimumCorrectionStars else { return none }
            let m = median(d)
            let sigma = max(0.005, 1.4826 * median(d.map { abs($0 - m) }))
            let next = kept.filter { abs(difference(3, $0) - m) <= 3 * sigma }
            if next.count == kept.count { break }
            kept = next
        }
        guard kept.count >= Self.minimumCorrectionStars else { return none }
        var corrections = [Double](repeating: 0, count: 13)
        for k in 1..<ref {
            let d = kept.map { difference(k, $0) }.filter(\.isFinite)
            corrections[k - 1] = d.count >= Self.minimumCorrectionStars ? max(0, median(d)) : 0
        }
        return (corrections, kept.count)
    }

    func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
