import FITS
import Foundation

/// Shared, read-only inputs of every frame (safe to use from several threads).
struct FrameContext: @unchecked Sendable {
    let config: SimulationConfig
    let plane: FocalPlane
    /// Camera 1…4.
    let defects: [DetectorDefects]
    /// Confidence maps per NJITTER, per camera (index camnum − 1).
    let confidence: [Int: [[Int16]]]
    let populations: [Programme: SkyPopulation]
    /// Night-mean zero points per `night/band`: mean, rms, count.
    let nightZeroPoints: [String: (mean: Double, rms: Double, count: Int)]
}

/// What one detector of a written frame looked like (for the truth tables).
public struct DetectorSummary: Sendable {
    public var camnum: Int
    public var seeing: Double
    public var zeroPoint: Double
    public var skyLevel: Double
    public var skyNoise: Double
    public var measuredSkyLevel: Double
    public var measuredSkyNoise: Double
    public var apcor3: Double
    public var catalogueRows: Int
    public var sourcesDrawn: Int
}

/// The outcome of writing one frame.
struct FrameResult: Sendable {
    var hits: [[TruthHit]]
    var detectors: [DetectorSummary]
    /// Paths (relative to the output directory) of the files written.
    var files: [String]
    var bytes: Int
}

/// Writes one observation as CASU delivers it: image MEF, confidence MEF, catalogue MEF.
enum FrameWriter {
    static let radii = CatalogueColumns.apertureMultipliers.map { $0 * 2.5 }

    static func write(_ frame: FrameSpec, context ctx: FrameContext) throws -> FrameResult {
        let out = ctx.config.outputDirectory
        let nightDir = out.appendingPathComponent(frame.night.directoryName)
        let n = ctx.plane.size
        let kind = frame.corruption
        let writeImage = kind != .catalogueWithoutImage
        let primary = primaryCards(frame)

        let imagePath = nightDir.appendingPathComponent(frame.imageName).path
        let confPath = nightDir.appendingPathComponent(frame.confName).path
        let catPath = nightDir.appendingPathComponent(frame.catalogueName).path
        let temp = { (p: String) in p + ".part" }

        var image: FITSFile?, conf: FITSFile?
        if writeImage {
            image = try FITSFile.create(temp(imagePath), overwrite: true)
            conf = try FITSFile.create(temp(confPath), overwrite: true)
        }
        let cat = try FITSFile.create(temp(catPath), overwrite: true)
        var removeTemps = true
        defer {
            if removeTemps {
                for p in [imagePath, confPath, catPath] { try? FileManager.default.removeItem(atPath: temp(p)) }
            }
        }
        for f in [image, conf, cat].compactMap({ $0 }) {
            try f.createImage(bitpix: .int32, dimensions: [])
            try f.setKeys(FITSHeader(primary))
            try f.addComment("Simulated CASU WFCAM delivery written by wfcamsim; not real data.")
        }

        var hits: [[TruthHit]] = []
        var summaries: [DetectorSummary] = []
        let columns = zip(CatalogueColumns.names, CatalogueColumns.units).map {
            FITSColumnSpec($0, format: "1E", unit: $1)
        }
        for camnum in 1...4 {
            let defects = ctx.defects[camnum - 1]
            let confMap = ctx.confidence[frame.njitter]![camnum - 1]
            let cond = DetectorConditions(frame: frame, camnum: camnum, seed: ctx.config.seed,
                                          pixelScale: ctx.plane.pixelScale)
            let wcsCards = ctx.plane.wcsCards(camnum: camnum, axis: frame.axis)
            let wcs = try WCS(header: FITSHeader(wcsCards + frameCards), source: frame.imageName)
            let psf = MoffatPSF(fwhm: cond.seeing)
            let rendered = try Renderer.render(frame: frame, conditions: cond, defects: defects, conf: confMap,
                                               population: ctx.populations[frame.programme]!, wcs: wcs, psf: psf,
                                               rotation: ctx.plane.rotation(camnum: camnum),
                                               pixelScale: ctx.plane.pixelScale, seed: ctx.config.seed)
            let corrections = psf.apertureCorrections(radii: radii)
            let stellar = corrections.apertures[2] - corrections.apertures[4]
            let extractor = Extractor(size: n, fwhm: cond.seeing, effectiveGain: cond.gain * Double(frame.njitter),
                                      saturation: DetectorDefects.saturation, stellarConcentration: stellar)
            var extraction = extractor.extract(pixels: rendered.pixels, conf: confMap)
            // Sky positions from the measured centroids through the header WCS, radians as float32.
            if !extraction.rows.isEmpty {
                let sky = try wcs.pixelToSky(extraction.rows.map {
                    PixelPosition(x: Double($0["X_coordinate"]), y: Double($0["Y_coordinate"]))
                })
                for k in extraction.rows.indices {
                    extraction.rows[k]["RA"] = Float(sky[k].ra * .pi / 180)
                    extraction.rows[k]["DEC"] = Float(sky[k].dec * .pi / 180)
                }
            }
            var arng = Xoshiro256(seed: ctx.config.seed, "astrometry", frame.identity, camnum)
            let standards = rendered.hits.filter { $0.type == .star && $0.mag > 10.5 && $0.mag < 15.5 }.count
            let night = ctx.nightZeroPoints["\(frame.night)/\(frame.passband.rawValue)"] ?? (cond.zeroPoint, 0, 1)
            let detector = DetectorHeader(
                frame: frame, conditions: cond, extraction: extraction, standards: standards,
                stdcrms: ((0.06 + 0.05 * arng.uniform()) * 1000).rounded() / 1000,
                magzrr: ((0.004 + 0.02 / Double(max(standards, 1)).squareRoot() + 0.003 * arng.uniform()) * 10000).rounded() / 10000,
                night: night, size: n)
            var extCards = detector.cards(confName: frame.confName)
            if kind != .missingWCS {
                extCards.insert(contentsOf: wcsCards + frameCards, at: detector.wcsInsertionIndex)
            }
            if let image {
                try image.createImage(bitpix: .int32, dimensions: [n, n], compression: .rice())
                try image.setKeys(FITSHeader(extCards))
                try image.writePixels(rendered.pixels)
            }
            if let conf {
                try conf.createImage(bitpix: .int16, dimensions: [n, n], compression: .rice())
                try conf.setKeys(FITSHeader(detector.confCards() + wcsCards + frameCards))
                try conf.writePixels(confMap)
            }
            var catCards = detector.cards(confName: frame.confName)
            catCards.insert(contentsOf: wcsCards + frameCards, at: detector.wcsInsertionIndex)
            catCards.removeAll { $0.keyword == "BUNIT" }  // not allowed in a table header
            catCards += detector.catalogueCards(apcor: corrections)
            try cat.createBinaryTable(columns: columns, rows: extraction.rows.count)
            try cat.setKeys(FITSHeader(catCards))
            // In row blocks that stay inside cfitsio's buffers (80 columns × 4 bytes a row).
            var first = 0
            while first < extraction.rows.count {
                let block = extraction.rows[first..<min(extraction.rows.count, first + 256)]
                for c in 0..<80 {
                    try cat.writeColumn(c + 1, block.map { $0.values[c] }, firstRow: first + 1)
                }
                first += 256
            }
            hits.append(rendered.hits)
            summaries.append(DetectorSummary(
                camnum: camnum, seeing: cond.seeing, zeroPoint: cond.zeroPoint, skyLevel: cond.skyLevel,
                skyNoise: cond.expectedSkyNoise, measuredSkyLevel: extraction.skyLevel,
                measuredSkyNoise: extraction.skyNoise, apcor3: corrections.apertures[2],
                catalogueRows: extraction.rows.count, sourcesDrawn: rendered.hits.count))
        }
        try image?.close()
        try conf?.close()
        try cat.close()

        // Damage after writing, then move everything into place.
        if kind == .truncatedImage {
            let size = try fileSize(temp(imagePath))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp(imagePath)))
            try handle.truncate(atOffset: UInt64(size * 6 / 10 + 1234))
            try handle.close()
        } else if kind == .badHeader {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temp(imagePath)))
            var rng = Xoshiro256(seed: ctx.config.seed, "garbage", frame.identity)
            let garbage = Data((0..<2880).map { _ in UInt8(33 + rng.int(94)) })
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: garbage)
            try handle.close()
        }
        var files: [String] = []
        var bytes = 0
        for p in writeImage ? [imagePath, confPath, catPath] : [catPath] {
            try? FileManager.default.removeItem(atPath: p)
            try FileManager.default.moveItem(atPath: temp(p), toPath: p)
            bytes += try fileSize(p)
            files.append(frame.night.directoryName + "/" + (p as NSString).lastPathComponent)
        }
        removeTemps = false
        return FrameResult(hits: hits, detectors: summaries, files: files, bytes: bytes)
    }

    /// RADESYS/EQUINOX, which belong with the WCS in each extension.
    static let frameCards = [
        FITSCard("RADESYS", .string("FK5"), comment: "Mean IAU 1984 equatorial co-ordinates"),
        FITSCard("EQUINOX", .double(2000.0), comment: "[yr] Equinox of object position"),
    ]

    static func fileSize(_ path: String) throws -> Int {
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        return (attrs[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The primary-HDU keywords of casu-wfcam.md §2.
    static func primaryCards(_ f: FrameSpec) -> [FITSCard] {
        [
            FITSCard("TELESCOP", .string("UKIRT"), comment: "Telescope name"),
            FITSCard("INSTRUME", .string("WFCAM"), comment: "Instrument"),
            FITSCard("PROJECT", .string(f.project), comment: "Time-allocation code"),
            FITSCard("MSBID", .string(f.msbID), comment: "Id min.-schedulable block"),
            FITSCard("OBSTYPE", .string("OBJECT"), comment: "BIAS|DARK|SKYFLAT|DOMEFLAT|OBJECT|SKY|FOCUS"),
            FITSCard("OBJECT", .string("\(f.programme.rawValue) pointing \(f.pointing + 1)"), comment: "Object name from telescope"),
            FITSCard("FILTER", .string(f.passband.filterName), comment: "Combined filter name"),
            FITSCard("EXP_TIME", .double(f.expTime), comment: "[s] Integration time per exposure"),
            FITSCard("NEXP", .int(1), comment: "Number of exposures in integration"),
            FITSCard("NJITTER", .int(f.njitter), comment: "Number of positions in tel pattern"),
            FITSCard("NUSTEP", .int(1), comment: "Number of positions in microstep pattern"),
            FITSCard("TILENUM", .int(f.pointing + 1), comment: "Tile number"),
            FITSCard("READMODE", .string("NDR_1.0"), comment: "Name of camera readmode"),
            FITSCard("UTDATE", .string(f.night.description), comment: "UT date as integer in yyyymmdd format"),
            FITSCard("DATE-OBS", .string(Night.isoTime(mjd: f.mjdStart)), comment: "Date and time (UTC) of start of obs"),
            FITSCard("DATE-END", .string(Night.isoTime(mjd: f.mjdEnd)), comment: "Date and time (UTC) of end of obs"),
            FITSCard("MJD-OBS", .double((f.mjdStart * 1e8).rounded() / 1e8), comment: "[d] Modified Julian Date of start of obs"),
            FITSCard("OBSNUM", .int(f.run), comment: "Observation number"),
            FITSCard("AMSTART", .double(f.amStart), comment: "Airmass at start of observation"),
            FITSCard("AMEND", .double(f.amEnd), comment: "Airmass at end of observation"),
            FITSCard("RABASE", .double(f.base.ra / 15), comment: "[h] Right Ascension of base position"),
            FITSCard("DECBASE", .double(f.base.dec), comment: "[deg] Declination of base position"),
            FITSCard("RADESYS", .string("FK5"), comment: "Mean IAU 1984 equatorial co-ordinates"),
            FITSCard("EQUINOX", .double(2000.0), comment: "[yr] Equinox of object position"),
        ]
    }
}

/// The keywords of one detector's extension (image, confidence map, catalogue).
struct DetectorHeader {
    var frame: FrameSpec
    var conditions: DetectorConditions
    var extraction: Extraction
    var standards: Int
    var stdcrms: Double
    var magzrr: Double
    var night: (mean: Double, rms: Double, count: Int)
    var size: Int

    /// Where the WCS cards go in `cards(confName:)`.
    var wcsInsertionIndex: Int { 15 }

    static func round(_ v: Double, _ digits: Int) -> Double {
        let p = pow(10.0, Double(digits))
        return (v * p).rounded() / p
    }

    func cards(confName: String) -> [FITSCard] {
        let c = conditions, f = frame, cam = c.camnum
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let flat = "\(f.passband.rawValue)flat_\(months[f.night.month - 1])\(f.night.year)_p.fit"
        return [
            FITSCard("CAMNUM", .int(cam), comment: "Number of WFCAM camera (1, 2, 3 or 4)"),
            FITSCard("DETECTID", .string(DetectorDefects.deviceID[cam - 1]), comment: "Serial number of detector array"),
            FITSCard("CNFINDEX", .int(100 + f.passband.filterID * 10 + f.njitter), comment: "Configuration index"),
            FITSCard("RUNID", .string(String(format: "w%@_%05d", f.night.description, f.run)), comment: "Raw file of the first exposure"),
            FITSCard("GAIN", .double(c.gain), comment: "[electrons/ADU] Detector gain"),
            FITSCard("READNOIS", .double(c.readNoise), comment: "[electrons] Readout noise"),
            FITSCard("DET_TEMP", .double(DetectorDefects.temperature[cam - 1]), comment: "[K] Detector array temperature"),
            FITSCard("DROWS", .int(size), comment: "[pixel] Number of detector rows"),
            FITSCard("DCOLUMNS", .int(size), comment: "[pixel] Number of detector columns"),
            FITSCard("PIXLSIZE", .double(0.4), comment: "[arcsec] Pixel size"),
            FITSCard("DARKCOR", .string("Done with: dark_\(Int(f.expTime))_1_\(f.night).fit"), comment: "Dark correction"),
            FITSCard("FLATCOR", .string("Done with: \(flat)"), comment: "Flat field correction"),
            FITSCard("SKYSUB", .string("Done with: sky_\(f.night)_\(f.run)_\(f.passband.rawValue).fit"), comment: "Sky subtraction"),
            FITSCard("CIR_CPM", .string("\(confName)[\(cam)]"), comment: "Confidence map"),
            FITSCard("CIR_VERS", .string("1.4"), comment: "Version of CASU pipeline software"),
            // (WCS cards are inserted here.)
            FITSCard("WCSPASS", .int(1), comment: "Astrometric fit passed"),
            FITSCard("NUMBRMS", .int(standards), comment: "Number of astrometric standards used"),
            FITSCard("STDCRMS", .double(stdcrms), comment: "[arcsec] Astrometric fit error"),
            FITSCard("SKYLEVEL", .double(Self.round(extraction.skyLevel, 2)), comment: "[ADU] Median sky brightness"),
            FITSCard("SKYNOISE", .double(Self.round(extraction.skyNoise, 3)), comment: "[ADU] Pixel noise at sky level"),
            FITSCard("SEEING", .double(c.seeing), comment: "[pixels] Average FWHM"),
            FITSCard("ELLIPTIC", .double(Self.round(extraction.ellipticity, 4)), comment: "Average stellar ellipticity (1-b/a)"),
            FITSCard("MAGZPT", .double(c.zeroPoint), comment: "[mag] Photometric ZP for default extinction"),
            FITSCard("MAGZRR", .double(magzrr), comment: "[mag] Photometric zeropoint error"),
            FITSCard("EXTINCT", .double(f.passband.extinction), comment: "Extinction coefficient in mag/airmass"),
            FITSCard("NUMZPT", .int(standards), comment: "Number of standards used in zeropoint"),
            FITSCard("NIGHTZPT", .double(Self.round(night.mean, 4)), comment: "[mag] Average photometric ZP for night"),
            FITSCard("NIGHTZRR", .double(Self.round(night.rms, 4)), comment: "[mag] Photometric ZP sigma for night"),
            FITSCard("NIGHTNUM", .int(night.count), comment: "Number of ZPs used in band for night"),
            FITSCard("PERCORR", .double(0.0), comment: "[mag] Sky calibration correction"),
            FITSCard("NICOMB", .int(f.njitter), comment: "Number of images in this stack"),
            FITSCard("BUNIT", .string("counts/exp"), comment: "Units of the pixel data"),
        ]
    }

    func confCards() -> [FITSCard] {
        [
            FITSCard("CAMNUM", .int(conditions.camnum), comment: "Number of WFCAM camera (1, 2, 3 or 4)"),
            FITSCard("DETECTID", .string(DetectorDefects.deviceID[conditions.camnum - 1]), comment: "Serial number of detector array"),
            FITSCard("DROWS", .int(size), comment: "[pixel] Number of detector rows"),
            FITSCard("DCOLUMNS", .int(size), comment: "[pixel] Number of detector columns"),
            FITSCard("NICOMB", .int(frame.njitter), comment: "Number of images in this stack"),
            FITSCard("CIR_VERS", .string("1.4"), comment: "Version of CASU pipeline software"),
        ]
    }

    /// The catalogue-only keywords: core radius, threshold, classification flag, aperture corrections.
    func catalogueCards(apcor: (apertures: [Double], peak: Double)) -> [FITSCard] {
        var list = [
            FITSCard("RCORE", .double(2.5), comment: "[pixels] Core radius for default profile fit"),
            FITSCard("THRESHOL", .double(Self.round(extraction.threshold, 3)), comment: "[ADU] Isophotal analysis threshold"),
            FITSCard("CLASSIFD", .bool(true), comment: "Classification has been done"),
            FITSCard("APCORPK", .double(Self.round(apcor.peak, 4)), comment: "[mag] Stellar aperture correction - peak height"),
        ]
        for k in 0..<7 {
            list.append(FITSCard("APCOR\(k + 1)", .double(Self.round(apcor.apertures[k], 4)),
                                 comment: "[mag] Stellar aperture correction - \(["1/2", "1/sqrt(2)", "1", "sqrt(2)", "2", "2sqrt(2)", "4"][k]) core"))
        }
        return list
    }
}
