package import FITS
public import Foundation
public import AppDriver
package import TransactionFormat

/// Where the detections of one catalogue extension go.
public struct DetectionTarget: Sendable, Equatable {
    /// The programme's detection table, e.g. `lasDetection`.
    public var table: String
    /// The image the catalogue belongs to (Multiframe) and its extension (MultiframeDetector).
    public var multiframeID: Int64
    public var extNum: Int16
    public var filterID: Int16
    /// The curation run loading the rows.
    public var cuEventID: Int32

    public init(table: String, multiframeID: Int64, extNum: Int16, filterID: Int16, cuEventID: Int32) {
        self.table = table
        self.multiframeID = multiframeID
        self.extNum = extNum
        self.filterID = filterID
        self.cuEventID = cuEventID
    }
}

/// A transaction file ready for `DbHandler.loadTransactionData`.
public struct TransactionData: Sendable, Equatable {
    /// The data file (`<sha256>.pgcopy`, its manifest beside it).
    public var dataFile: URL
    public var table: String
    public var rowCount: Int
    public var sha256: String

    public init(dataFile: URL, table: String, rowCount: Int, sha256: String) {
        self.dataFile = dataFile
        self.table = table
        self.rowCount = rowCount
        self.sha256 = sha256
    }
}

extension FitsReader {
    /// Writes the detections of catalogue HDU `hdu` as a transaction file for `target.table`
    /// (casu-wfcam.md §3–4): positions recomputed from x, y through the header WCS (the
    /// catalogue's float32 radians are too coarse), calibrated magnitudes
    /// `MAGZPT − 2.5 log10(F/EXP_TIME) − APCORk − EXTINCT·(X − 1) − PERCORR` with errors
    /// 1.0857 σ/F, and the WSA null defaults where a value is missing or not positive.
    public func makeTransactionData(catalogue hdu: Int, target: DetectionTarget,
                                    into directory: URL) throws(WrapperError) -> TransactionData {
        let detections = try readDetections(catalogue: hdu, target: target)
        return try CASUCatalogue.transactionData([detections], cuEventID: target.cuEventID, into: directory, file: path)
    }

    /// Reads and converts the detections of catalogue HDU `hdu` (positions through the WCS,
    /// calibration), checked, into memory: what ``CASUCatalogue/transactionData(_:cuEventID:into:file:)``
    /// writes. A problem of the file throws a bad-input ``WrapperError``.
    package func readDetections(catalogue hdu: Int, target: DetectionTarget) throws(WrapperError) -> CASUCatalogue.Detections {
        guard isCatalogContainer(hdu) else {
            throw WrapperError(.wrongContents, file: path,
                                  "HDU \(hdu) is not a CASU catalogue (no X_coordinate/Aper_flux_3 columns)")
        }
        let calibration: CASUCatalogue.Calibration
        let columns: [String: [Float]]
        let wcs: WCS
        do {
            try file.moveTo(hdu: 1)
            let exposure = try file.requireDouble("EXP_TIME")
            let amStart = try file.readKey("AMSTART")?.doubleValue ?? 1
            let amEnd = try file.readKey("AMEND")?.doubleValue ?? amStart
            try file.moveTo(hdu: hdu)
            var apcor = [Double](repeating: 0, count: 13)
            for k in 1...7 { apcor[k - 1] = try file.readKey("APCOR\(k)")?.doubleValue ?? 0 }
            calibration = CASUCatalogue.Calibration(
                zeroPoint: try file.requireDouble("MAGZPT"), exposure: exposure,
                extinction: try file.readKey("EXTINCT")?.doubleValue ?? 0,
                airmass: (amStart + amEnd) / 2, perCorr: try file.readKey("PERCORR")?.doubleValue ?? 0,
                aperture: apcor)
            guard exposure > 0 else {
                throw WrapperError(.missingKeyword, file: path, "EXP_TIME is \(exposure), not a positive time")
            }
            var read: [String: [Float]] = [:]
            // Found by name in cfitsio's column table (not by describing every column, which
            // reads the TTYPEn/TFORMn/TUNITn cards again for each).
            for name in CASUCatalogue.used {
                guard let index = try? file.columnIndex(name) else { continue }
                read[name] = try file.readColumn(index, as: Float.self)
            }
            columns = read
        } catch let e as WrapperError {
            throw e
        } catch {
            throw Self.keywordProblem(path, error)
        }
        do {
            wcs = try file.wcs()
        } catch {
            throw WrapperError(.noWCS, file: path, "HDU \(hdu) has no usable celestial WCS: \(error)")
        }
        let rows = columns["X_coordinate"]?.count ?? 0
        if let problem = CASUCatalogue.sequenceProblem(columns["Sequence_number"]) {
            throw WrapperError(.wrongContents, file: path, "HDU \(hdu): \(problem)")
        }
        let sky: [SkyPosition]
        do {
            let xs = columns["X_coordinate"]!, ys = columns["Y_coordinate"]!
            sky = try wcs.pixelToSky((0..<rows).map { PixelPosition(x: Double(xs[$0]), y: Double(ys[$0])) })
        } catch {
            throw WrapperError(.noWCS, file: path, "HDU \(hdu): positions through the WCS failed: \(error)")
        }
        do {
            return try CASUCatalogue.Detections(encoding: columns, sky: sky, rows: rows, calibration: calibration, target: target)
        } catch {
            throw WrapperError(.wrongContents, file: path, "HDU \(hdu): rows cannot be encoded: \(error)")
        }
    }
}

extension CASUCatalogue {
    /// One catalogue extension's detections, read, converted and encoded as binary COPY rows
    /// (on the reading cores, while an earlier step loads); only the run's cuEventID, known when
    /// its step begins, is stamped into them later.
    package struct Detections: Sendable {
        package private(set) var encoded: [UInt8]
        package let rows: Int
        package let target: DetectionTarget
        /// Where each row's cuEventID value (its last field, 4 bytes) lies in ``encoded``.
        private let eventIDOffsets: [Int]

        package init(encoding columns: [String: [Float]], sky: [SkyPosition], rows: Int,
                     calibration: Calibration, target: DetectionTarget) throws {
            var bytes: [UInt8] = []
            var offsets: [Int] = []
            offsets.reserveCapacity(rows)
            let writer = PostgresBinaryCopyWriter(writeHeader: false) { chunk in bytes.append(contentsOf: chunk) }
            try writeRows(columns, sky: sky, rows: rows, calibration: calibration, target: target, into: writer) {
                offsets.append(writer.byteCount - 4)
            }
            try writer.finishRows()
            encoded = bytes
            eventIDOffsets = offsets
            self.rows = rows
            self.target = target
        }

        /// Every row's cuEventID set to `cuEventID`.
        package mutating func stamp(cuEventID: Int32) {
            let offsets = eventIDOffsets
            encoded.withUnsafeMutableBytes { bytes in
                for offset in offsets { bytes.storeBytes(of: cuEventID.bigEndian, toByteOffset: offset, as: Int32.self) }
            }
        }
    }

    /// One transaction file holding the rows of every one of `detections` (all for one table),
    /// stamped with `cuEventID`: one COPY loads them all. `file` names what they came from, for
    /// errors.
    package static func transactionData(_ detections: [Detections], cuEventID: Int32, into directory: URL,
                                        file: String) throws(WrapperError) -> TransactionData {
        guard let table = detections.first?.target.table else {
            throw WrapperError(.writeFailed, file: file, "no detections to write")
        }
        do {
            let (manifest, data) = try TransactionFile.write(
                to: directory, table: table, columns: detectionColumns, writer: "FitsReader") { w in
                for var d in detections {
                    d.stamp(cuEventID: cuEventID)
                    try d.encoded.withUnsafeBytes { try w.writeEncodedRows($0, rowCount: d.rows) }
                }
            }
            return TransactionData(dataFile: data, table: manifest.table, rowCount: manifest.rowCount,
                                   sha256: manifest.sha256)
        } catch {
            throw WrapperError(.writeFailed, file: file, "transaction file: \(error)")
        }
    }
}

/// The CASU catalogue layout and its mapping onto the WSA detection tables.
package enum CASUCatalogue {
    package static let requiredColumns = ["Sequence_number", "X_coordinate", "Y_coordinate", "Aper_flux_3",
                                  "Classification"]

    /// WSA null default for real columns.
    package static let nullReal = WSANull.real

    package static let radiusAndFlux = [("Petr", "petro"), ("Kron", "kron"), ("Hall", "hall")]

    /// The catalogue columns the mapping reads.
    package static let used: Set<String> = {
        var s: Set<String> = ["Sequence_number", "Isophotal_flux", "X_coordinate", "X_coordinate_err",
                              "Y_coordinate", "Y_coordinate_err", "Gaussian_sigma", "Ellipticity",
                              "Position_angle", "Peak_height", "Peak_height_err", "Error_bit_flag",
                              "Sky_level", "Sky_rms", "Av_conf", "Classification", "Statistic"]
        for k in 1...8 { s.insert("Areal_\(k)_profile") }
        for k in 1...13 { s.insert("Aper_flux_\(k)"); s.insert("Aper_flux_\(k)_err") }
        for (casu, _) in radiusAndFlux {
            s.insert("\(casu)_radius"); s.insert("\(casu)_flux"); s.insert("\(casu)_flux_err")
        }
        return s
    }()

    /// The detection table's columns, in the order `writeRows` writes them.
    package static let detectionColumns: [String] = {
        var c = ["multiframeID", "extNum", "seqNum", "filterID", "x", "xErr", "y", "yErr", "ra", "dec",
                 "gausig", "ell", "pa"]
        c += (1...8).map { "areal\($0)" }
        c += ["pHeight", "pHeightErr", "isoFlux", "isoFluxErr", "isoMag", "isoMagErr"]
        for k in 1...13 { c += ["aperFlux\(k)", "aperFlux\(k)Err"] }
        for k in 1...13 { c += ["aperMag\(k)", "aperMag\(k)Err"] }
        for (_, wsa) in radiusAndFlux {
            c += ["\(wsa)Rad", "\(wsa)Flux", "\(wsa)FluxErr", "\(wsa)Mag", "\(wsa)MagErr"]
        }
        c += ["errBits", "averageConf", "sky", "skyVar", "class", "classStat", "ppErrBits", "objID",
              "cuEventID"]
        return c
    }()

    package struct Calibration: Sendable {
        package var zeroPoint, exposure, extinction, airmass, perCorr: Double
        /// Aperture corrections (mag, positive) for apertures 1…13; CASU gives 1…7, the wider
        /// apertures hold practically all of a star's flux and take 0.
        package var aperture: [Double]

        package init(zeroPoint: Double, exposure: Double, extinction: Double, airmass: Double, perCorr: Double,
                     aperture: [Double]) {
            self.zeroPoint = zeroPoint
            self.exposure = exposure
            self.extinction = extinction
            self.airmass = airmass
            self.perCorr = perCorr
            self.aperture = aperture
        }

        package func magnitude(_ flux: Float, apcor: Double = 0) -> Float {
            guard flux.isFinite, flux > 0 else { return nullReal }
            return Float(zeroPoint - 2.5 * log10(Double(flux) / exposure) - apcor
                         - extinction * (airmass - 1) - perCorr)
        }

        package func magnitudeError(_ flux: Float, _ error: Float) -> Float {
            guard flux.isFinite, flux > 0, error.isFinite, error >= 0 else { return nullReal }
            return Float(1.0857 * Double(error) / Double(flux))
        }
    }

    /// Why a Sequence_number column cannot key the rows (each an integer 1…2²⁰−1, as the
    /// objID packs it, and no two alike), or nil when it can.
    package static func sequenceProblem(_ sequence: [Float]?) -> String? {
        guard let sequence else { return nil }
        var seen = Set<Int32>()
        for (i, value) in sequence.enumerated() {
            guard value.isFinite, value == value.rounded(), value >= 1, value <= Float(0xFFFFF),
                  let n = Int32(exactly: value) else {
                return "Sequence_number of row \(i + 1) is \(value), not a sequence number"
            }
            guard seen.insert(n).inserted else { return "Sequence_number \(n) appears twice (row \(i + 1))" }
        }
        return nil
    }

    /// A flag or class column's value, or `null` when it is not an integer of the type.
    package static func integer<T: FixedWidthInteger>(_ value: Float, null: T) -> T {
        value.isFinite ? T(exactly: value.rounded()) ?? null : null
    }

    /// Writes the rows; `rowDone` is called after each (its cuEventID is the last field written).
    package static func writeRows(_ col: [String: [Float]], sky: [SkyPosition], rows: Int,
                          calibration cal: Calibration, target: DetectionTarget,
                          into w: PostgresBinaryCopyWriter, rowDone: () -> Void = {}) throws {
        let empty = [Float](repeating: .nan, count: rows)
        func column(_ name: String) -> [Float] { col[name] ?? empty }
        func real(_ v: Float) -> Float { v.isFinite ? v : nullReal }
        let seq = column("Sequence_number"), iso = column("Isophotal_flux")
        let x = column("X_coordinate"), xErr = column("X_coordinate_err")
        let y = column("Y_coordinate"), yErr = column("Y_coordinate_err")
        let gausig = column("Gaussian_sigma"), ell = column("Ellipticity"), pa = column("Position_angle")
        let areal = (1...8).map { column("Areal_\($0)_profile") }
        let peak = column("Peak_height"), peakErr = column("Peak_height_err")
        let aper = (1...13).map { column("Aper_flux_\($0)") }
        let aperErr = (1...13).map { column("Aper_flux_\($0)_err") }
        let extended = radiusAndFlux.map { (casu, _) in
            (column("\(casu)_radius"), column("\(casu)_flux"), column("\(casu)_flux_err"))
        }
        let errBits = column("Error_bit_flag"), conf = column("Av_conf")
        let skyLevel = column("Sky_level"), skyRms = column("Sky_rms")
        let cls = column("Classification"), stat = column("Statistic")

        for i in 0..<rows {
            try w.beginRow(fieldCount: detectionColumns.count)
            let seqNum = integer(seq[i], null: Int32(i + 1))
            w.write(target.multiframeID)
            w.write(target.extNum)
            w.write(seqNum)
            w.write(target.filterID)
            w.write(real(x[i])); w.write(real(xErr[i])); w.write(real(y[i])); w.write(real(yErr[i]))
            w.write(sky[i].ra); w.write(sky[i].dec)
            w.write(real(gausig[i])); w.write(real(ell[i])); w.write(real(pa[i]))
            for a in areal { w.write(real(a[i])) }
            w.write(real(peak[i])); w.write(real(peakErr[i]))
            w.write(real(iso[i])); w.write(nullReal)
            w.write(cal.magnitude(iso[i])); w.write(nullReal)
            for k in 0..<13 { w.write(real(aper[k][i])); w.write(real(aperErr[k][i])) }
            for k in 0..<13 {
                w.write(cal.magnitude(aper[k][i], apcor: cal.aperture[k]))
                w.write(cal.magnitudeError(aper[k][i], aperErr[k][i]))
            }
            for (radius, flux, fluxErr) in extended {
                w.write(real(radius[i])); w.write(real(flux[i])); w.write(real(fluxErr[i]))
                w.write(cal.magnitude(flux[i])); w.write(cal.magnitudeError(flux[i], fluxErr[i]))
            }
            w.write(integer(errBits[i], null: Int32(0)))
            w.write(real(conf[i])); w.write(real(skyLevel[i])); w.write(real(skyRms[i]))
            w.write(integer(cls[i], null: WSANull.smallInt))
            w.write(real(stat[i]))
            w.write(Int32(0))
            w.write(target.multiframeID << 23 | Int64(target.extNum) << 20 | Int64(seqNum & 0xFFFFF))
            w.write(target.cuEventID)
            rowDone()
        }
    }
}
