public import FITS
public import Foundation
public import AppDriver
public import TransactionFormat

/// What the headers of one image or confidence-map file say (casu-wfcam.md §2 and §4): the
/// primary keywords that go to Multiframe and one ``DetectorMetadata`` per image HDU. Values a
/// header does not give hold the WSA null defaults (``ImageMetadata/nullReal`` and friends).
public struct ImageMetadata: Sendable, Equatable {
    /// WSA null defaults (``WSANull``): real/double, integer/bigint, smallint, varchar.
    public static let nullReal = WSANull.double
    public static let nullInt = WSANull.int
    public static let nullSmallInt = WSANull.smallInt
    public static let nullString = WSANull.text

    /// The file, as given.
    public var path: String
    /// PROJECT, e.g. `U/UKIDSS/LAS`.
    public var project: String
    /// MSBID.
    public var msbID: String
    /// OBSNUM (the run number).
    public var obsNum: Int32
    /// FILTER, e.g. `J`.
    public var filterName: String
    /// MJD-OBS (days).
    public var mjdObs: Double
    /// EXP_TIME (seconds, one exposure).
    public var expTime: Float
    /// AMSTART, AMEND (airmass).
    public var amStart: Float
    public var amEnd: Float
    /// RABASE in hours, as in the header.
    public var raBase: Double
    /// DECBASE (degrees).
    public var decBase: Double
    /// CIR_VERS of the first image extension.
    public var casuVers: String
    /// UTDATE (`yyyymmdd`).
    public var utDate: String
    /// The confidence map CIR_CPM of the first image extension names, without its `[n]`.
    public var confName: String
    /// One entry per image HDU, in HDU order.
    public var detectors: [DetectorMetadata]

    /// The Julian Day Number of UTDATE (MultiframeDetector.julianDayNum), or the null default.
    public var julianDayNum: Int32 {
        let digits = Array(utDate.utf8)
        guard digits.count == 8, digits.allSatisfy({ (48...57).contains($0) }),
              let value = Int(utDate) else { return Self.nullInt }
        let year = value / 10000, month = value / 100 % 100, day = value % 100
        guard (1...12).contains(month), (1...31).contains(day) else { return Self.nullInt }
        let a = (14 - month) / 12
        let y = year + 4800 - a, m = month + 12 * a - 3
        return Int32(day + (153 * m + 2) / 5 + 365 * y + y / 4 - y / 100 + y / 400 - 32045)
    }
}

/// What one image HDU's header says: detector, quality and calibration keywords, the WCS and
/// the footprint derived from it.
public struct DetectorMetadata: Sendable, Equatable {
    /// The HDU number as ``FitsReader`` numbers them (primary = 1, so extensions 2…5).
    public var extNum: Int
    /// CAMNUM, DETECTID.
    public var camNum: Int16
    public var deviceID: String
    /// BITPIX and axis lengths of the (uncompressed) image: ZBITPIX/ZNAXISn when compressed.
    public var bitsPerPix: Int16
    public var axis1: Int32
    public var axis2: Int32
    /// SEEING (pixels), ELLIPTIC, SKYLEVEL and SKYNOISE (ADU).
    public var seeing: Float
    public var avStellarEll: Float
    public var skyLevel: Float
    public var skyNoise: Float
    /// MAGZPT, MAGZRR, NUMZPT, EXTINCT.
    public var photZPCat: Float
    public var photZPErrCat: Float
    public var numZPCat: Int32
    public var extinctionCat: Float
    /// EXP_TIME × NEXP × NICOMB (seconds; NEXP and NICOMB taken as 1 when absent).
    public var totalExpTime: Float

    /// CTYPE1/2, CRVAL1/2 (degrees), CRPIX1/2, CD1_1…CD2_2 (degrees/pixel), PV2_1…PV2_3.
    public var ctypeX: String
    public var ctypeY: String
    public var crValX: Double
    public var crValY: Double
    public var crPixX: Double
    public var crPixY: Double
    public var cd11: Double
    public var cd12: Double
    public var cd21: Double
    public var cd22: Double
    public var pv21: Double
    public var pv22: Double
    public var pv23: Double
    /// NUMBRMS, STDCRMS (arcsec).
    public var numRms: Int32
    public var stdCRms: Float

    /// Sky positions of pixels (1,1), (nx,1), (nx,ny), (1,ny) through the header WCS.
    public var corners: [SkyPosition]
    /// Sky position of the centre pixel ((nx+1)/2, (ny+1)/2); RA in [0, 360).
    public var centralRa: Double
    public var centralDec: Double
    /// RA and Dec limits over the corners and edge midpoints (degrees). `minRa < maxRa` always:
    /// across RA 0 `minRa` goes below 0 (or `maxRa` above 360), so `maxRa − minRa` is the
    /// width; over a celestial pole they are 0 and 360 and the Dec limit is ±90.
    public var minRa: Double
    public var maxRa: Double
    public var minDec: Double
    public var maxDec: Double
    /// Pixel sizes from the CD matrix (arcsec).
    public var xPixSize: Float
    public var yPixSize: Float
}

/// What the archive adds to a file's headers for its Multiframe and MultiframeDetector rows.
public struct FrameRecord: Sendable, Equatable {
    /// Reserved by the caller.
    public var multiframeID: Int64
    /// Path in the archive file system.
    public var fileName: String
    public var version: Int32
    public var frameType: FrameType
    public var programmeID: Int32
    public var filterID: Int16
    /// multiframeID of the confidence map, −99999999 if none.
    public var confID: Int64
    /// The CASU catalogue, `NONE` if none.
    public var catName: String
    /// Bytes, and the SHA-256 of the file (hex).
    public var fileSize: Int64
    public var checksum: String
    /// yyyymmddhhmmss of the delivery.
    public var fileTimeStamp: Int64
    /// 0 current; non-zero says why not.
    public var deprecated: Int16
    /// The curation run loading the rows.
    public var cuEventID: Int32
    /// extNum → JPEG of that extension (`NONE` when absent).
    public var compFiles: [Int: String]
    /// extNum → catalogue rows of that extension (−99999999 when unknown).
    public var tableRows: [Int: Int]

    public init(multiframeID: Int64, fileName: String, version: Int32 = 1, frameType: FrameType,
                programmeID: Int32, filterID: Int16, confID: Int64 = WSANull.bigInt, catName: String = WSANull.text,
                fileSize: Int64 = WSANull.bigInt, checksum: String = WSANull.text, fileTimeStamp: Int64 = WSANull.bigInt,
                deprecated: Int16 = 0, cuEventID: Int32, compFiles: [Int: String] = [:],
                tableRows: [Int: Int] = [:]) {
        self.multiframeID = multiframeID
        self.fileName = fileName
        self.version = version
        self.frameType = frameType
        self.programmeID = programmeID
        self.filterID = filterID
        self.confID = confID
        self.catName = catName
        self.fileSize = fileSize
        self.checksum = checksum
        self.fileTimeStamp = fileTimeStamp
        self.deprecated = deprecated
        self.cuEventID = cuEventID
        self.compFiles = compFiles
        self.tableRows = tableRows
    }
}

extension FitsReader {
    /// Reads the primary header and every image HDU's header and WCS (CU3). Fails with
    /// `.missingKeyword` when FILTER, MJD-OBS, EXP_TIME or PROJECT is missing, `.noWCS` when an
    /// image HDU has no usable celestial WCS, `.wrongContents` when there is no image, and
    /// `.unreadable` when the file cannot be read (including a file cut short in its last image).
    public func readImageMetadata() throws(WrapperError) -> ImageMetadata {
        let images = getImageArrays()
        guard let last = images.last else {
            throw WrapperError(.wrongContents, file: path, "no HDU holds an image")
        }
        let primary: FITSHeader
        var headers: [(Int, FITSHeader)] = []
        do {
            try file.moveTo(hdu: 1)
            primary = try file.header()
            for hdu in images {
                try file.moveTo(hdu: hdu)
                headers.append((hdu, try file.header()))
            }
            try file.moveTo(hdu: last)
            let count = hdus[last - 1].dimensions?.reduce(1, *) ?? 1
            _ = try file.readPixels(first: count, count: 1, as: Double.self)
        } catch {
            throw Self.unreadable(path, error)
        }

        let first = headers[0].1
        let project = try required(primary, "PROJECT", String.self)
        let filterName = try required(primary, "FILTER", String.self)
        let mjdObs = try required(primary, "MJD-OBS", Double.self)
        let expTime = try required(primary, "EXP_TIME", Double.self)
        let exposures = primary.double("NEXP").flatMap { $0.isFinite && $0 > 0 ? $0 : nil } ?? 1
        var detectors: [DetectorMetadata] = []
        for (hdu, header) in headers {
            detectors.append(try detector(hdu: hdu, header: header, exposureTime: expTime * exposures))
        }
        return ImageMetadata(
            path: path,
            project: project,
            msbID: Self.string(primary, "MSBID"),
            obsNum: Self.int32(primary, "OBSNUM"),
            filterName: filterName,
            mjdObs: mjdObs,
            expTime: Self.real(expTime),
            amStart: Self.real(primary, "AMSTART"),
            amEnd: Self.real(primary, "AMEND"),
            raBase: Self.double(primary, "RABASE"),
            decBase: Self.double(primary, "DECBASE"),
            casuVers: first.string("CIR_VERS") ?? Self.string(primary, "CIR_VERS"),
            utDate: Self.string(primary, "UTDATE"),
            confName: Self.confName(first.string("CIR_CPM")),
            detectors: detectors)
    }

    private func detector(hdu: Int, header h: FITSHeader, exposureTime: Double) throws(WrapperError)
        -> DetectorMetadata {
        let info = hdus[hdu - 1]
        let dims = info.dimensions ?? []
        let nx = dims.count > 0 ? dims[0] : 1, ny = dims.count > 1 ? dims[1] : 1
        let wcs: WCS
        let footprint: Footprint
        do {
            wcs = try WCS(header: h, source: path)
            footprint = try Footprint(wcs: wcs, nx: nx, ny: ny)
        } catch let e as FITSError {
            throw WrapperError(.noWCS, file: path, "HDU \(hdu): no usable celestial WCS (\(e.operation): \(e.message))")
        } catch {
            throw WrapperError(.noWCS, file: path, "HDU \(hdu): no usable celestial WCS (\(error))")
        }
        let cd = [Self.double(h, "CD1_1"), Self.double(h, "CD1_2"), Self.double(h, "CD2_1"), Self.double(h, "CD2_2")]
        let haveCD = h["CD1_1"]?.doubleValue != nil && h["CD2_2"]?.doubleValue != nil
        let combined = h.double("NICOMB").flatMap { $0.isFinite && $0 > 0 ? $0 : nil } ?? 1
        return DetectorMetadata(
            extNum: hdu,
            camNum: Self.int16(h, "CAMNUM"),
            deviceID: Self.string(h, "DETECTID"),
            bitsPerPix: info.bitpix.flatMap { Int16(exactly: $0) } ?? ImageMetadata.nullSmallInt,
            axis1: dims.count > 0 ? Int32(exactly: dims[0]) ?? ImageMetadata.nullInt : ImageMetadata.nullInt,
            axis2: dims.count > 1 ? Int32(exactly: dims[1]) ?? ImageMetadata.nullInt : ImageMetadata.nullInt,
            seeing: Self.real(h, "SEEING"),
            avStellarEll: Self.real(h, "ELLIPTIC"),
            skyLevel: Self.real(h, "SKYLEVEL"),
            skyNoise: Self.real(h, "SKYNOISE"),
            photZPCat: Self.real(h, "MAGZPT"),
            photZPErrCat: Self.real(h, "MAGZRR"),
            numZPCat: Self.int32(h, "NUMZPT"),
            extinctionCat: Self.real(h, "EXTINCT"),
            totalExpTime: Self.real(exposureTime * combined),
            ctypeX: Self.string(h, "CTYPE1"),
            ctypeY: Self.string(h, "CTYPE2"),
            crValX: Self.double(h, "CRVAL1"),
            crValY: Self.double(h, "CRVAL2"),
            crPixX: Self.double(h, "CRPIX1"),
            crPixY: Self.double(h, "CRPIX2"),
            cd11: cd[0], cd12: cd[1], cd21: cd[2], cd22: cd[3],
            pv21: Self.double(h, "PV2_1"),
            pv22: Self.double(h, "PV2_2"),
            pv23: Self.double(h, "PV2_3"),
            numRms: Self.int32(h, "NUMBRMS"),
            stdCRms: Self.real(h, "STDCRMS"),
            corners: footprint.corners,
            centralRa: footprint.centre.ra,
            centralDec: footprint.centre.dec,
            minRa: footprint.minRa, maxRa: footprint.maxRa,
            minDec: footprint.minDec, maxDec: footprint.maxDec,
            xPixSize: haveCD ? Self.real(hypot(cd[0], cd[2]) * 3600) : Float(ImageMetadata.nullReal),
            yPixSize: haveCD ? Self.real(hypot(cd[1], cd[3]) * 3600) : Float(ImageMetadata.nullReal))
    }

    private func required(_ h: FITSHeader, _ keyword: String, _: Double.Type) throws(WrapperError) -> Double {
        guard let value = h[keyword] else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword \(keyword) is missing")
        }
        guard let d = value.doubleValue, d.isFinite else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword \(keyword) is not a number: \(value)")
        }
        return d
    }

    private func required(_ h: FITSHeader, _ keyword: String, _: String.Type) throws(WrapperError) -> String {
        guard let value = h[keyword] else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword \(keyword) is missing")
        }
        let text: String
        switch value {
        case .string(let s): text = s.trimmingCharacters(in: .whitespaces)
        case .int(let i): text = String(i)
        default: text = ""
        }
        guard !text.isEmpty else {
            throw WrapperError(.missingKeyword, file: path, "HDU 1: keyword \(keyword) has no usable value: \(value)")
        }
        return text
    }

    static func string(_ h: FITSHeader, _ keyword: String) -> String {
        switch h[keyword] {
        case .string(let s)? where !s.isEmpty: return s
        case .int(let i)?: return String(i)
        default: return ImageMetadata.nullString
        }
    }

    static func double(_ h: FITSHeader, _ keyword: String) -> Double {
        guard let d = h.double(keyword), d.isFinite else { return ImageMetadata.nullReal }
        return d
    }

    static func real(_ h: FITSHeader, _ keyword: String) -> Float {
        real(double(h, keyword))
    }

    static func real(_ d: Double) -> Float {
        let f = Float(d)
        return f.isFinite ? f : Float(ImageMetadata.nullReal)
    }

    static func int32(_ h: FITSHeader, _ keyword: String) -> Int32 {
        h.int(keyword).flatMap { Int32(exactly: $0) } ?? ImageMetadata.nullInt
    }

    static func int16(_ h: FITSHeader, _ keyword: String) -> Int16 {
        h.int(keyword).flatMap { Int16(exactly: $0) } ?? ImageMetadata.nullSmallInt
    }

    /// `w…_conf.fit[3]` → `w…_conf.fit`.
    static func confName(_ value: String?) -> String {
        guard var name = value?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            return ImageMetadata.nullString
        }
        if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            name = String(name[..<open])
        }
        return name.isEmpty ? ImageMetadata.nullString : name
    }
}

/// The sky area an image covers, through its WCS.
struct Footprint {
    var corners: [SkyPosition]
    var centre: SkyPosition
    var minRa, maxRa, minDec, maxDec: Double

    init(wcs: WCS, nx: Int, ny: Int) throws {
        let w = Double(nx), h = Double(ny)
        let cx = (w + 1) / 2, cy = (h + 1) / 2
        let pixels = [(1, 1), (w, 1), (w, h), (1, h), (cx, 1), (w, cy), (cx, h), (1, cy), (cx, cy)]
            .map { PixelPosition(x: $0.0, y: $0.1) }
        let sky = try wcs.pixelToSky(pixels).map { SkyPosition(ra: Self.wrap($0.ra), dec: $0.dec) }
        guard sky.allSatisfy({ $0.ra.isFinite && $0.dec.isFinite }) else {
            throw FITSError(.wcsFailed, file: wcs.source, operation: "pixel to sky",
                            message: "the footprint has positions that are not numbers")
        }
        corners = Array(sky[0..<4])
        centre = sky[8]
        let edge = sky[0..<8]
        let ra0 = centre.ra
        let unwrapped = edge.map { $0.ra - ra0 > 180 ? $0.ra - 360 : ra0 - $0.ra > 180 ? $0.ra + 360 : $0.ra }
        var limits = (minRa: unwrapped.min()!, maxRa: unwrapped.max()!,
                      minDec: edge.map(\.dec).min()!, maxDec: edge.map(\.dec).max()!)
        func covers(_ pole: SkyPosition) -> Bool {
            guard let p = try? wcs.skyToPixel(pole), p.x.isFinite, p.y.isFinite else { return false }
            return p.x >= 0.5 && p.x <= w + 0.5 && p.y >= 0.5 && p.y <= h + 0.5
        }
        if sky[8].dec > 0, covers(SkyPosition(ra: 0, dec: 90)) {
            (limits.minRa, limits.maxRa, limits.maxDec) = (0, 360, 90)
        } else if sky[8].dec < 0, covers(SkyPosition(ra: 0, dec: -90)) {
            (limits.minRa, limits.maxRa, limits.minDec) = (0, 360, -90)
        }
        (minRa, maxRa, minDec, maxDec) = limits
    }

    static func wrap(_ ra: Double) -> Double {
        let r = ra.truncatingRemainder(dividingBy: 360)
        return r < 0 ? r + 360 : r
    }
}

/// CU3's transaction files: Multiframe, MultiframeDetector and CurrentAstrometry rows from
/// image metadata and what the archive adds.
public enum ImageMetadataLoad {
    /// Multiframe columns, in table order (all of them).
    public static let multiframeColumns = [
        "multiframeID", "fileName", "version", "catName", "fileTimeStamp", "frameType", "programmeID",
        "project", "msbID", "obsNum", "filterID", "filterName", "mjdObs", "expTime", "amStart", "amEnd",
        "raBase", "decBase", "casuVers", "confID", "fileSize", "checksum", "deprecated", "cuEventID",
    ]

    /// MultiframeDetector columns, in table order (all but aperCorPeak and aperCor1…7, which
    /// only catalogue headers give). photZP/photZPErr start as CASU's (zpVersion 0).
    public static let detectorColumns = [
        "multiframeID", "extNum", "camNum", "deviceID", "julianDayNum", "bitsPerPix", "axis1Length",
        "axis2Length", "seeing", "avStellarEll", "skyLevel", "skyNoise", "photZPCat", "photZPErrCat",
        "numZPCat", "photZP", "photZPErr", "zpVersion", "extinctionCat", "tableRows", "totalExpTime",
        "raCorner1", "decCorner1", "raCorner2", "decCorner2", "raCorner3", "decCorner3",
        "raCorner4", "decCorner4", "compFile", "deprecated", "cuEventID",
    ]

    /// CurrentAstrometry columns, in table order (all of them).
    public static let astrometryColumns = [
        "multiframeID", "extNum", "ctypeX", "ctypeY", "crValX", "crValY", "crPixX", "crPixY",
        "cd11", "cd12", "cd21", "cd22", "pv21", "pv22", "pv23", "numRms", "stdCRms",
        "centralRa", "centralDec", "minRa", "maxRa", "minDec", "maxDec", "xPixSize", "yPixSize",
        "cuEventID",
    ]

    /// Writes three transaction files into `directory`: Multiframe (one row per file), then
    /// MultiframeDetector and CurrentAstrometry (one row per image HDU), the order their
    /// foreign keys need. Values too long for their columns, an unknown frameType or an extNum
    /// or row count out of range fail with `.writeFailed` naming the file, before anything is written.
    public static func makeTransactionData(_ frames: [(ImageMetadata, FrameRecord)],
                                           into directory: URL) throws(WrapperError) -> [TransactionData] {
        for (meta, record) in frames { try validate(meta, record) }
        let tables: [(String, [String], (PostgresBinaryCopyWriter) throws -> Void)] = [
            ("Multiframe", multiframeColumns, { w in
                for (meta, record) in frames { try writeMultiframe(meta, record, into: w) }
            }),
            ("MultiframeDetector", detectorColumns, { w in
                for (meta, record) in frames {
                    for d in meta.detectors { try writeDetector(d, of: meta, record, into: w) }
                }
            }),
            ("CurrentAstrometry", astrometryColumns, { w in
                for (meta, record) in frames {
                    for d in meta.detectors { try writeAstrometry(d, record, into: w) }
                }
            }),
        ]
        var written: [TransactionData] = []
        for (table, columns, body) in tables {
            do {
                let (manifest, data) = try TransactionFile.write(
                    to: directory, table: table, columns: columns, writer: "FitsReader", body)
                written.append(TransactionData(dataFile: data, table: manifest.table,
                                               rowCount: manifest.rowCount, sha256: manifest.sha256))
            } catch {
                throw WrapperError(.writeFailed, file: directory.path, "transaction file for \(table): \(error)")
            }
        }
        return written
    }

    /// Checks that a frame's values fit the tables' columns; what does not is a fault of the
    /// file (bad input), found before the batch is written.
    static func validate(_ meta: ImageMetadata, _ record: FrameRecord) throws(WrapperError) {
        func fail(_ problem: String) -> WrapperError {
            WrapperError(.wrongContents, file: record.fileName, problem)
        }
        var strings: [(String, String, Int)] = [
            ("fileName", record.fileName, 512), ("catName", record.catName, 512), ("checksum", record.checksum, 64),
            ("project", meta.project, 64), ("msbID", meta.msbID, 64), ("filterName", meta.filterName, 16),
            ("casuVers", meta.casuVers, 64),
        ]
        for d in meta.detectors {
            guard Int16(exactly: d.extNum) != nil else { throw fail("extNum \(d.extNum) is out of range") }
            guard d.corners.count == 4 else { throw fail("HDU \(d.extNum): \(d.corners.count) corners, not 4") }
            if let rows = record.tableRows[d.extNum], Int32(exactly: rows) == nil {
                throw fail("HDU \(d.extNum): \(rows) catalogue rows is out of range")
            }
            strings += [("deviceID", d.deviceID, 32), ("ctypeX", d.ctypeX, 16), ("ctypeY", d.ctypeY, 16),
                        ("compFile", record.compFiles[d.extNum] ?? "", 512)]
        }
        for (column, value, limit) in strings where value.unicodeScalars.count > limit {
            throw fail("\(column) '\(value.prefix(40))…' is longer than \(limit) characters")
        }
    }

    private static func writeMultiframe(_ m: ImageMetadata, _ r: FrameRecord,
                                        into w: PostgresBinaryCopyWriter) throws {
        try w.beginRow(fieldCount: multiframeColumns.count)
        w.write(r.multiframeID); w.write(r.fileName); w.write(r.version); w.write(r.catName)
        w.write(r.fileTimeStamp); w.write(r.frameType.rawValue); w.write(r.programmeID)
        w.write(m.project); w.write(m.msbID); w.write(m.obsNum); w.write(r.filterID); w.write(m.filterName)
        w.write(m.mjdObs); w.write(m.expTime); w.write(m.amStart); w.write(m.amEnd)
        w.write(m.raBase); w.write(m.decBase); w.write(m.casuVers)
        w.write(r.confID); w.write(r.fileSize); w.write(r.checksum); w.write(r.deprecated); w.write(r.cuEventID)
    }

    private static func writeDetector(_ d: DetectorMetadata, of m: ImageMetadata, _ r: FrameRecord,
                                      into w: PostgresBinaryCopyWriter) throws {
        try w.beginRow(fieldCount: detectorColumns.count)
        w.write(r.multiframeID); w.write(Int16(d.extNum)); w.write(d.camNum); w.write(d.deviceID)
        w.write(m.julianDayNum); w.write(d.bitsPerPix); w.write(d.axis1); w.write(d.axis2)
        w.write(d.seeing); w.write(d.avStellarEll); w.write(d.skyLevel); w.write(d.skyNoise)
        w.write(d.photZPCat); w.write(d.photZPErrCat); w.write(d.numZPCat)
        w.write(d.photZPCat); w.write(d.photZPErrCat); w.write(Int16(0))
        w.write(d.extinctionCat)
        w.write(r.tableRows[d.extNum].map { Int32($0) } ?? ImageMetadata.nullInt)
        w.write(d.totalExpTime)
        for c in d.corners { w.write(c.ra); w.write(c.dec) }
        w.write(r.compFiles[d.extNum] ?? ImageMetadata.nullString)
        w.write(r.deprecated); w.write(r.cuEventID)
    }

    private static func writeAstrometry(_ d: DetectorMetadata, _ r: FrameRecord,
                                        into w: PostgresBinaryCopyWriter) throws {
        try w.beginRow(fieldCount: astrometryColumns.count)
        w.write(r.multiframeID); w.write(Int16(d.extNum)); w.write(d.ctypeX); w.write(d.ctypeY)
        w.write(d.crValX); w.write(d.crValY); w.write(d.crPixX); w.write(d.crPixY)
        w.write(d.cd11); w.write(d.cd12); w.write(d.cd21); w.write(d.cd22)
        w.write(d.pv21); w.write(d.pv22); w.write(d.pv23); w.write(d.numRms); w.write(d.stdCRms)
        w.write(d.centralRa); w.write(d.centralDec); w.write(d.minRa); w.write(d.maxRa)
        w.write(d.minDec); w.write(d.maxDec); w.write(d.xPixSize); w.write(d.yPixSize); w.write(r.cuEventID)
    }
}
