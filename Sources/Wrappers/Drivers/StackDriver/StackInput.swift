import FITS
public import Foundation
public import AppDriver

/// One frame to go into a stack or mosaic: a CASU image MEF and its confidence map, with what
/// ``StackDriver`` needs from their headers (read once, through FITSFile).
public struct StackInput: Sendable, Equatable {
    /// One image extension of the frame.
    public struct Detector: Sendable, Equatable {
        /// HDU number (primary = 1, so a CASU frame's detectors are 2…5).
        public var hdu: Int
        /// CAMNUM, if the header has it.
        public var camNum: Int?
        /// Image size (NAXIS1, NAXIS2 of the uncompressed image).
        public var width: Int
        public var height: Int
        /// MAGZPT (mag, for the default extinction).
        public var magZpt: Double
        /// EXTINCT (mag/airmass; 0 when absent).
        public var extinction: Double
        /// NICOMB: exposures combined in this frame (1 when absent).
        public var combined: Int
        /// SEEING (pixels; nil when absent).
        public var seeing: Double?

        /// The zero point at the frame's airmass: MAGZPT − EXTINCT·(X − 1).
        public func zeroPoint(airmass: Double) -> Double { magZpt - extinction * (airmass - 1) }
    }

    /// The image MEF.
    public var image: URL
    /// Its confidence map (same HDU layout).
    public var confidence: URL
    /// FILTER, PROJECT of the primary header.
    public var filter: String
    public var project: String
    /// MJD-OBS (start) and the end of the observation (from DATE-END, else MJD-OBS plus the
    /// exposure time on sky).
    public var mjdObs: Double
    public var mjdEnd: Double
    /// EXP_TIME (seconds, one exposure: pixel values are counts per exposure) and NEXP.
    public var expTime: Double
    public var nexp: Int
    /// ½(AMSTART + AMEND), 1 when absent.
    public var airmass: Double
    /// The image extensions, in file order.
    public var detectors: [Detector]

    /// Exposures that went into the frame: NEXP × NICOMB of its first detector.
    public var exposures: Int { nexp * (detectors.first?.combined ?? 1) }
    /// Time on sky: EXP_TIME × ``exposures`` (seconds).
    public var totalExposure: Double { expTime * Double(exposures) }

    /// Reads the headers of `image` and checks `confidence` has an image of the same size at
    /// every detector's HDU. Without `confidence`, the map named by CIR_CPM of the first image
    /// extension (its `[n]` dropped), in the image's directory, else `NAME_conf.fit` beside it.
    ///
    /// - Throws: `unreadable` (not FITS, truncated header, no image extension), `missingKeyword`
    ///   (FILTER, EXP_TIME, MJD-OBS, MAGZPT), `wrongContents` (confidence map of another layout).
    public init(image: URL, confidence: URL? = nil) throws(WrapperError) {
        self.image = image
        let path = image.path
        var detectors: [Detector] = []
        var primary = FITSHeader()
        var cirCPM: String?
        do {
            let file = try FITSFile.open(path)
            defer { try? file.close() }
            try file.moveTo(hdu: 1)
            primary = try file.header()
            for info in try file.hdus() where info.holdsImage && info.index > 1 {
                guard let dims = info.dimensions, dims.count == 2 else {
                    throw WrapperError(.wrongContents, file: path,
                                       "HDU \(info.index): not a two-dimensional image")
                }
                try file.moveTo(hdu: info.index)
                let h = try file.header()
                if cirCPM == nil { cirCPM = h.string("CIR_CPM") }
                guard let zp = h.double("MAGZPT"), zp.isFinite else {
                    throw WrapperError(.missingKeyword, file: path, "HDU \(info.index): keyword MAGZPT is missing")
                }
                detectors.append(Detector(
                    hdu: info.index, camNum: h.int("CAMNUM"), width: dims[0], height: dims[1],
                    magZpt: zp, extinction: Self.finite(h.double("EXTINCT")) ?? 0,
                    combined: max(1, h.int("NICOMB") ?? 1), seeing: Self.finite(h.double("SEEING"))))
            }
        } catch let error as WrapperError {
            throw error
        } catch {
            throw StackDriver.unreadable(path, error)
        }
        guard !detectors.isEmpty else {
            throw WrapperError(.unreadable, file: path, "no image extension")
        }
        self.detectors = detectors
        func required(_ keyword: String) throws(WrapperError) -> FITSValue {
            guard let value = primary[keyword] else {
                throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword \(keyword) is missing")
            }
            return value
        }
        guard let filter = try required("FILTER").stringValue?.trimmingCharacters(in: .whitespaces),
              !filter.isEmpty
        else { throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword FILTER has no value") }
        self.filter = filter
        self.project = primary.string("PROJECT") ?? ""
        guard let exp = try required("EXP_TIME").doubleValue, exp.isFinite, exp > 0 else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword EXP_TIME is not a positive number")
        }
        expTime = exp
        guard let mjd = try required("MJD-OBS").doubleValue, mjd.isFinite else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword MJD-OBS is not a number")
        }
        mjdObs = mjd
        nexp = max(1, primary.int("NEXP") ?? 1)
        if let start = Self.finite(primary.double("AMSTART")) {
            airmass = 0.5 * (start + (Self.finite(primary.double("AMEND")) ?? start))
        } else {
            airmass = 1
        }
        let onSky = exp * Double(nexp * (detectors[0].combined)) / 86400
        if let end = primary.string("DATE-END").flatMap(Self.mjd(isoDate:)),
           let start = primary.string("DATE-OBS").flatMap(Self.mjd(isoDate:)), end >= start {
            mjdEnd = mjd + (end - start)
        } else {
            mjdEnd = mjd + onSky
        }

        let conf = confidence ?? Self.confidenceBeside(image, cirCPM: cirCPM)
        self.confidence = conf
        do {
            let file = try FITSFile.open(conf.path)
            defer { try? file.close() }
            let hdus = try file.hdus()
            for d in detectors {
                guard d.hdu <= hdus.count, hdus[d.hdu - 1].holdsImage,
                      hdus[d.hdu - 1].dimensions == [d.width, d.height]
                else {
                    throw WrapperError(.wrongContents, file: conf.path,
                                       "HDU \(d.hdu): no \(d.width)×\(d.height) confidence image for \(image.lastPathComponent)")
                }
            }
        } catch let error as WrapperError {
            throw error
        } catch {
            throw StackDriver.unreadable(conf.path, error)
        }
    }

    static func finite(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return value
    }

    /// `CIR_CPM` (`name_conf.fit[1]`) without its extension, beside the image; else
    /// `NAME_conf.fit` for `NAME.fit`.
    static func confidenceBeside(_ image: URL, cirCPM: String?) -> URL {
        let directory = image.deletingLastPathComponent()
        if var name = cirCPM?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            if name.hasSuffix("]"), let open = name.lastIndex(of: "[") { name = String(name[..<open]) }
            name = (name as NSString).lastPathComponent
            if !name.isEmpty { return directory.appendingPathComponent(name) }
        }
        let ext = image.pathExtension
        let base = image.deletingPathExtension().lastPathComponent
        return directory.appendingPathComponent(base + "_conf" + (ext.isEmpty ? "" : "." + ext))
    }

    /// `YYYY-MM-DDThh:mm:ss[.sss]` (UTC) → MJD.
    static func mjd(isoDate text: String) -> Double? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "T")
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let time = parts[1].split(separator: ":")
        guard date.count == 3, time.count == 3, let h = Double(time[0]), let m = Double(time[1]),
              let s = Double(time[2])
        else { return nil }
        // Days from the civil date (proleptic Gregorian) to 1858-11-17.
        var y = date[0], mo = date[1]
        let d = date[2]
        if mo <= 2 { y -= 1; mo += 12 }
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (mo - 3) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 678881  // days from 1970-01-01 (−719468) + MJD 40587
        return Double(days) + (h * 3600 + m * 60 + s) / 86400
    }
}
