import FITS
public import Foundation
public import AppDriver
import TransactionFormat
public import WrapperCore

extension ExtractedCatalogue {
    /// Writes the detections as a transaction file for `target.table` (a programme's Detection
    /// table), in ``CASUCatalogue``'s column order so stack detections load beside the CASU
    /// frame detections.
    ///
    /// Mapping (source-extractor → WSA): NUMBER → seqNum; X/Y_IMAGE → x, y; √ERRX2/ERRY2 →
    /// xErr, yErr; ra, dec through the image's WCS; FWHM_IMAGE/2.3548 → gausig; ELLIPTICITY →
    /// ell; THETA_IMAGE → pa; ISOAREA_IMAGE → areal1 (areal2…8 null); FLUX_MAX → pHeight with
    /// error √(rms² + FLUX_MAX/gain); FLUX_ISO → isoFlux; FLUX_APER k → aperFlux k, aperMag k
    /// with the derived aperture correction; FLUX_PETRO, FLUX_AUTO → petro…, kron… with
    /// radius = half the circularised integration radius (PETRO/KRON_RADIUS · √(A·B) / 2, as
    /// CASU's radii); hall… null; FLAGS | FLAGS_WEIGHT << 8 → errBits; BACKGROUND → sky;
    /// THRESHOLD / DETECT_THRESH → skyVar (the local noise, as CASU's Sky_rms); CLASS_STAR →
    /// classStat, and class −9 if saturated (FLAGS bit 4), else −1 (≥ 0.8), −2 (≥ 0.5),
    /// −3 (> 0.2), +1 (≤ 0.2). Magnitude errors 1.0857 σ/F; WSA null defaults where a value is
    /// missing or a flux is not positive.
    public func makeTransactionData(target: DetectionTarget, into directory: URL) throws(WrapperError)
        -> TransactionData
    {
        do {
            let (manifest, data) = try TransactionFile.write(
                to: directory, table: target.table, columns: CASUCatalogue.detectionColumns,
                writer: "CatExDriver") { w in try writeRows(target: target, into: w) }
            return TransactionData(dataFile: data, table: manifest.table, rowCount: manifest.rowCount,
                                   sha256: manifest.sha256)
        } catch {
            throw WrapperError(.writeFailed, file: catalogueFile.path, "transaction file for \(image) HDU \(hdu): \(error)")
        }
    }

    /// The `class` of a CLASS_STAR value and source-extractor FLAGS.
    public static func classification(classStar: Double, flags: Int) -> Int16 {
        if flags & 4 != 0 { return -9 }
        guard classStar.isFinite else { return WSANull.smallInt }
        if classStar >= 0.8 { return -1 }
        if classStar >= 0.5 { return -2 }
        if classStar > 0.2 { return -3 }
        return 1
    }

    func writeRows(target: DetectionTarget, into w: PostgresBinaryCopyWriter) throws {
        let null = WSANull.real
        let cal = calibration
        func real(_ v: Double) -> Float { v.isFinite ? Float(v) : null }
        func root(_ v: Double) -> Float { v.isFinite && v >= 0 ? Float(v.squareRoot()) : null }
        let number = column("NUMBER"), x = column("X_IMAGE"), y = column("Y_IMAGE")
        let errX2 = column("ERRX2_IMAGE"), errY2 = column("ERRY2_IMAGE")
        let a = column("A_IMAGE"), b = column("B_IMAGE"), theta = column("THETA_IMAGE")
        let ell = column("ELLIPTICITY"), fwhm = column("FWHM_IMAGE"), isoArea = column("ISOAREA_IMAGE")
        let peak = column("FLUX_MAX"), iso = column("FLUX_ISO"), isoErr = column("FLUXERR_ISO")
        let aper = (1...13).map { column("FLUX_APER_\($0)") }
        let aperErr = (1...13).map { column("FLUXERR_APER_\($0)") }
        let extended = [("PETRO_RADIUS", "FLUX_PETRO", "FLUXERR_PETRO"), ("KRON_RADIUS", "FLUX_AUTO", "FLUXERR_AUTO")]
            .map { (column($0.0), column($0.1), column($0.2)) }
        let background = column("BACKGROUND"), threshold = column("THRESHOLD")
        let classStar = column("CLASS_STAR"), flags = column("FLAGS"), weightFlags = column("FLAGS_WEIGHT")

        for i in 0..<rowCount {
            try w.beginRow(fieldCount: CASUCatalogue.detectionColumns.count)
            let seqNum = CASUCatalogue.integer(Float(number[i]), null: Int32(i + 1))
            let rms = threshold[i] / detectThreshold
            w.write(target.multiframeID)
            w.write(target.extNum)
            w.write(seqNum)
            w.write(target.filterID)
            w.write(real(x[i])); w.write(root(errX2[i])); w.write(real(y[i])); w.write(root(errY2[i]))
            w.write(positions[i].ra); w.write(positions[i].dec)
            w.write(real(fwhm[i] / 2.3548)); w.write(real(ell[i])); w.write(real(theta[i]))
            w.write(real(isoArea[i]))
            for _ in 2...8 { w.write(null) }
            w.write(real(peak[i]))
            let peakVariance = rms * rms + (effectiveGain > 0 ? max(peak[i], 0) / effectiveGain : 0)
            w.write(root(peakVariance))
            w.write(real(iso[i])); w.write(real(isoErr[i]))
            w.write(cal.magnitude(Float(iso[i]))); w.write(cal.magnitudeError(Float(iso[i]), Float(isoErr[i])))
            for k in 0..<13 { w.write(real(aper[k][i])); w.write(real(aperErr[k][i])) }
            for k in 0..<13 {
                w.write(cal.magnitude(Float(aper[k][i]), apcor: apertureCorrections[k]))
                w.write(cal.magnitudeError(Float(aper[k][i]), Float(aperErr[k][i])))
            }
            let circular = (a[i] * b[i]).squareRoot()
            for (radius, flux, fluxErr) in extended {
                w.write(real(radius[i] * circular / 2)); w.write(real(flux[i])); w.write(real(fluxErr[i]))
                w.write(cal.magnitude(Float(flux[i]))); w.write(cal.magnitudeError(Float(flux[i]), Float(fluxErr[i])))
            }
            for _ in 0..<5 { w.write(null) }  // hallRad, hallFlux, hallFluxErr, hallMag, hallMagErr
            let flagBits = flags[i].isFinite ? Int(flags[i]) : 0
            let weightBits = weightFlags[i].isFinite ? Int(weightFlags[i]) : 0
            w.write(Int32(truncatingIfNeeded: flagBits | weightBits << 8))
            w.write(null)  // averageConf
            w.write(real(background[i])); w.write(real(rms))
            w.write(Self.classification(classStar: classStar[i], flags: flagBits))
            w.write(real(classStar[i]))
            w.write(Int32(0))  // ppErrBits
            w.write(target.multiframeID << 23 | Int64(target.extNum) << 20 | Int64(seqNum & 0xFFFFF))
            w.write(target.cuEventID)
        }
    }
}
