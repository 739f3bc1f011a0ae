import FITS
import Foundation
import Postgres
import SimulatorKit
import Testing
import TestSupport
import TransactionFormat
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// CU3's image metadata on a simulated LAS + GPS night, checked against headers and truth,
/// and loaded into a fresh archive database.
@Suite(.serialized) struct ImageMetadataTests {
    /// One LAS + GPS night, one pointing, with every kind of damaged file; made once.
    static let night = SimulatedNights.make("wsa-imagemeta-night-seed9-v1", seed: 9, size: 256,
                                            programmes: [.LAS, .GPS], corrupt: 5)

    static let filterIDs: [String: Int16] = ["Z": 1, "Y": 2, "J": 3, "H": 4, "K": 5, "H2": 6]
    static let programmeIDs: [String: Int32] = ["LAS": 101, "GPS": 102]

    static func files(_ suffix: String) throws -> [String] {
        let dir = night.appendingPathComponent("20051012_v1")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(suffix) }.sorted().map { dir.appendingPathComponent($0).path }
    }

    /// Damaged file path → kind.
    static func corrupt() throws -> [String: String] {
        try csv("truth/corrupt.csv").reduce(into: [:]) { $0[night.appendingPathComponent($1["file"]!).path] = $1["kind"]! }
    }

    static func goodImages() throws -> [String] {
        let damaged = try corrupt()
        return try files("_sf_st.fit").filter { damaged[$0] == nil }
    }

    /// Rows of a simulator truth CSV (no quoted commas in the columns we read).
    static func csv(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOf: night.appendingPathComponent(name), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    static func relative(_ path: String) -> String { String(path.dropFirst(night.path.count + 1)) }

    /// Inside the sky quadrilateral `corners` (gnomonic projection about `centre`)?
    static func inside(_ p: SkyPosition, corners: [SkyPosition], centre: SkyPosition) -> Bool {
        func plane(_ s: SkyPosition) -> (Double, Double) {
            let d = Double.pi / 180
            let (a, dd, a0, d0) = (s.ra * d, s.dec * d, centre.ra * d, centre.dec * d)
            let cosc = sin(d0) * sin(dd) + cos(d0) * cos(dd) * cos(a - a0)
            return (cos(dd) * sin(a - a0) / cosc, (cos(d0) * sin(dd) - sin(d0) * cos(dd) * cos(a - a0)) / cosc)
        }
        let q = plane(p), poly = corners.map(plane)
        var sign = 0.0
        for i in 0..<poly.count {
            let (a, b) = (poly[i], poly[(i + 1) % poly.count])
            let cross = (b.0 - a.0) * (q.1 - a.1) - (b.1 - a.1) * (q.0 - a.0)
            if sign == 0 { sign = cross } else if sign * cross < 0 { return false }
        }
        return true
    }

    @Test func imagesMatchTheirHeadersAndTheTruth() throws {
        let images = try Self.goodImages()
        #expect(images.count == 8)
        let truth = try Self.csv("truth/detectors.csv")
        let stars = try Self.csv("truth/frames.csv").filter { $0["type"] == "star" }
        var starsTested = 0
        for path in images {
            let meta = try FitsReader(path).readImageMetadata()
            let relative = Self.relative(path)
            #expect(meta.path == path)
            #expect(["U/UKIDSS/LAS", "U/UKIDSS/GPS"].contains(meta.project))
            #expect(meta.utDate == "20051012" && meta.julianDayNum == 2_453_656)
            #expect(meta.casuVers == "1.4")
            #expect(meta.confName == URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: ".fit", with: "_conf.fit"))
            #expect(meta.msbID != "NONE" && meta.obsNum > 0)
            #expect(relative.contains(String(format: "_%05d_", meta.obsNum)))
            #expect(meta.detectors.map(\.extNum) == [2, 3, 4, 5])

            let f = try FITSFile.open(path)
            try f.moveTo(hdu: 1)
            #expect(meta.msbID == (try f.readKey("MSBID")?.stringValue))
            #expect(meta.raBase == (try f.readKey("RABASE")?.doubleValue))
            #expect(meta.decBase == (try f.readKey("DECBASE")?.doubleValue))
            #expect(meta.amStart == Float(try f.requireDouble("AMSTART")))
            #expect(meta.amEnd == Float(try f.requireDouble("AMEND")))

            for d in meta.detectors {
                let row = try #require(truth.first { $0["file"] == relative && $0["extension"] == String(d.camNum) })
                #expect(Int(d.camNum) == d.extNum - 1)
                #expect(meta.filterName == row["filter"])
                #expect(abs(meta.mjdObs - Double(row["mjd"]!)!) < 1e-7)
                #expect(meta.expTime == Float(row["exp_time"]!)!)
                #expect(abs((meta.amStart + meta.amEnd) / 2 - Float(row["airmass"]!)!) < 2e-3)
                #expect(abs(d.seeing - Float(row["seeing"]!)!) < 1e-4)
                #expect(abs(d.photZPCat - Float(row["magzpt"]!)!) < 1e-4)
                #expect(abs(d.extinctionCat - Float(row["extinct"]!)!) < 1e-6)
                let njitter: Float = meta.filterName == "H2" ? 9 : 4
                #expect(d.totalExpTime == meta.expTime * njitter)
                #expect(d.bitsPerPix == 32 && d.axis1 == 256 && d.axis2 == 256)

                try f.moveTo(hdu: d.extNum)
                let h = try f.header()
                #expect(d.deviceID == h.string("DETECTID"))
                #expect(d.skyLevel == Float(h.double("SKYLEVEL")!))
                #expect(d.skyNoise == Float(h.double("SKYNOISE")!))
                #expect(d.avStellarEll == Float(h.double("ELLIPTIC")!))
                #expect(d.photZPErrCat == Float(h.double("MAGZRR")!))
                #expect(d.numZPCat == Int32(h.int("NUMZPT")!))
                #expect(d.numRms == Int32(h.int("NUMBRMS")!) && d.stdCRms == Float(h.double("STDCRMS")!))
                #expect(d.ctypeX == "RA---ZPN" && d.ctypeY == "DEC--ZPN")
                #expect(d.crValX == h.double("CRVAL1") && d.crValY == h.double("CRVAL2"))
                #expect(d.crPixX == h.double("CRPIX1") && d.crPixY == h.double("CRPIX2"))
                #expect(d.cd11 == h.double("CD1_1") && d.cd12 == h.double("CD1_2"))
                #expect(d.cd21 == h.double("CD2_1") && d.cd22 == h.double("CD2_2"))
                #expect(d.pv21 == 1 && d.pv22 == 0 && d.pv23 == 220)

                // Footprint: centre, pixel sizes, limits, and truth stars inside the corners.
                let wcs = try f.wcs()
                let centre = try wcs.pixelToSky(PixelPosition(x: 128.5, y: 128.5))
                let offset = hypot((d.centralRa - centre.ra) * cos(centre.dec * .pi / 180), d.centralDec - centre.dec)
                #expect(offset * 3600 < 1)
                #expect(abs(d.xPixSize - 0.4) < 0.004 && abs(d.yPixSize - 0.4) < 0.004)
                #expect(d.corners.count == 4)
                let expectedCorners = try wcs.pixelToSky([(1, 1), (256, 1), (256, 256), (1, 256)].map {
                    PixelPosition(x: $0.0, y: $0.1)
                })
                for (c, e) in zip(d.corners, expectedCorners) {
                    #expect(abs(c.ra - e.ra) < 1e-9 && abs(c.dec - e.dec) < 1e-9)
                }
                for c in d.corners {
                    #expect(c.ra >= d.minRa && c.ra <= d.maxRa && c.dec >= d.minDec && c.dec <= d.maxDec)
                }
                #expect(d.maxRa - d.minRa < 0.06 && d.maxDec - d.minDec < 0.06)
                #expect(abs(d.centralRa - meta.raBase * 15) < 0.1 && abs(d.centralDec - meta.decBase) < 0.1)
                let camera = String(d.camNum)
                let onDetector: [[String: String]] = stars.filter { $0["file"] == relative && $0["extension"] == camera }
                let pixels: [PixelPosition] = onDetector.map { PixelPosition(x: Double($0["x"]!)!, y: Double($0["y"]!)!) }
                let mine = pixels.filter { (2.0...255.0).contains($0.x) && (2.0...255.0).contains($0.y) }
                for sky in try wcs.pixelToSky(mine) {
                    #expect(Self.inside(sky, corners: d.corners, centre: centre), "\(relative)[\(d.extNum)]: \(sky)")
                }
                starsTested += mine.count
                let outside = try wcs.pixelToSky([PixelPosition(x: -10, y: 128), PixelPosition(x: 128, y: 267)])
                #expect(!outside.contains { Self.inside($0, corners: d.corners, centre: centre) })
            }
        }
        #expect(starsTested > 200, "too few truth stars: \(starsTested)")
    }

    @Test func confidenceMapsRead() throws {
        let images = try Self.goodImages()
        for image in images {
            let path = image.replacingOccurrences(of: ".fit", with: "_conf.fit")
            let conf = try FitsReader(path).readImageMetadata()
            let meta = try FitsReader(image).readImageMetadata()
            #expect(conf.project == meta.project && conf.filterName == meta.filterName)
            #expect(conf.mjdObs == meta.mjdObs && conf.expTime == meta.expTime && conf.obsNum == meta.obsNum)
            #expect(conf.confName == "NONE" && conf.casuVers == "1.4")
            #expect(conf.detectors.map(\.extNum) == [2, 3, 4, 5])
            for (c, d) in zip(conf.detectors, meta.detectors) {
                #expect(c.camNum == d.camNum && c.deviceID == d.deviceID && c.bitsPerPix == 16)
                #expect(c.seeing == Float(ImageMetadata.nullReal) && c.photZPCat == Float(ImageMetadata.nullReal))
                #expect(c.numRms == ImageMetadata.nullInt && c.numZPCat == ImageMetadata.nullInt)
                #expect(c.totalExpTime == d.totalExpTime)
                #expect(c.corners == d.corners && c.centralRa == d.centralRa && c.centralDec == d.centralDec)
            }
        }
    }

    @Test func damagedFilesGiveOneClearError() throws {
        let damaged = try Self.corrupt()
        #expect(damaged.count == 5)
        for (path, kind) in damaged {
            let result: Result<ImageMetadata, WrapperError> = Result { () throws(WrapperError) in
                try FitsReader(path).readImageMetadata()
            }
            switch (kind, result) {
            case ("unknown_project", .success(let meta)):
                #expect(meta.project == "U/UKIDSS/XYZ")
            case (_, .success):
                Issue.record("\(kind) was read: \(path)")
            case (_, .failure(let error)):
                #expect(error.file == path && error.description.hasPrefix(path))
                #expect(!error.description.contains("\n"))
                switch kind {
                case "missing_wcs":
                    #expect(error.code == .noWCS && error.problem.hasPrefix("HDU 2:"), "\(error)")
                case "truncated_image", "bad_header":
                    #expect(error.code == .unreadable, "\(kind): \(error)")
                case "catalogue_without_image":
                    #expect(error.code == .wrongContents, "\(error)")
                default:
                    Issue.record("\(kind): \(error)")
                }
            }
        }
    }

    @Test func anImageCutShortInItsLastHDUIsUnreadable() throws {
        let dir = try TestEnvironment.temporaryDirectory("imagemeta")
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("short.fit").path
        try FileManager.default.copyItem(atPath: try Self.goodImages()[0], toPath: copy)
        let size = try FileManager.default.attributesOfItem(atPath: copy)[.size] as! Int
        let handle = try #require(FileHandle(forWritingAtPath: copy))
        try handle.truncate(atOffset: UInt64(size - 3000))
        try handle.close()
        let result = Result { () throws(WrapperError) in try FitsReader(copy).readImageMetadata() }
        guard case .failure(let error) = result else { Issue.record("read a truncated file"); return }
        #expect(error.code == .unreadable && error.file == copy, "\(error)")
    }

    @Test func missingKeywords() throws {
        let dir = try TestEnvironment.temporaryDirectory("imagemeta")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Self.goodImages()[0]
        func copy(deleting keys: [String], hdu: Int) throws -> String {
            let path = dir.appendingPathComponent("\(keys.joined())-\(hdu).fit").path
            try FileManager.default.copyItem(atPath: image, toPath: path)
            let f = try FITSFile.open(path, mode: .readWrite)
            try f.moveTo(hdu: hdu)
            for key in keys { try f.deleteKey(key) }
            try f.close()
            return path
        }
        for key in ["FILTER", "MJD-OBS", "EXP_TIME", "PROJECT"] {
            let path = try copy(deleting: [key], hdu: 1)
            #expect {
                _ = try FitsReader(path).readImageMetadata()
            } throws: {
                guard let e = $0 as? WrapperError else { return false }
                return e.code == .missingKeyword && e.file == path && e.problem.contains(key)
            }
        }
        let sparse = try FitsReader(try copy(deleting: ["MSBID", "OBSNUM", "AMSTART", "RABASE", "UTDATE"], hdu: 1))
            .readImageMetadata()
        #expect(sparse.msbID == "NONE" && sparse.obsNum == -99999999 && sparse.amStart == -0.9999995e9)
        #expect(sparse.raBase == -0.9999995e9 && sparse.utDate == "NONE" && sparse.julianDayNum == -99999999)
        let detector = try FitsReader(try copy(deleting: ["SEEING", "CAMNUM", "DETECTID", "NUMZPT", "CIR_CPM"], hdu: 2))
            .readImageMetadata()
        let d = detector.detectors[0]
        #expect(d.seeing == -0.9999995e9 && d.camNum == -9999 && d.deviceID == "NONE" && d.numZPCat == -99999999)
        #expect(detector.confName == "NONE")
        #expect(detector.detectors[1].seeing > 0)
    }

    @Test func footprintAcrossRAZeroAndOverThePole() throws {
        func wcs(ra: Double, dec: Double) throws -> WCS {
            try WCS(header: FITSHeader([
                FITSCard("CTYPE1", .string("RA---TAN")), FITSCard("CTYPE2", .string("DEC--TAN")),
                FITSCard("CRVAL1", .double(ra)), FITSCard("CRVAL2", .double(dec)),
                FITSCard("CRPIX1", .double(128.5)), FITSCard("CRPIX2", .double(128.5)),
                FITSCard("CD1_1", .double(-0.4 / 3600)), FITSCard("CD1_2", .double(0)),
                FITSCard("CD2_1", .double(0)), FITSCard("CD2_2", .double(0.4 / 3600)),
            ]))
        }
        let zero = try Footprint(wcs: wcs(ra: 0.005, dec: 10), nx: 256, ny: 256)
        #expect(zero.centre.ra >= 0 && zero.centre.ra < 360 && abs(zero.centre.ra - 0.005) < 1e-9)
        #expect(zero.minRa < 0 && zero.maxRa > 0 && zero.maxRa < 1)
        #expect(abs((zero.maxRa - zero.minRa) * cos(10 * Double.pi / 180) - 255 * 0.4 / 3600) < 1e-4)
        let late = try Footprint(wcs: wcs(ra: 359.995, dec: -10), nx: 256, ny: 256)
        #expect(late.minRa < 360 && late.maxRa > 360 && late.minRa > 359)
        let pole = try Footprint(wcs: wcs(ra: 30, dec: 89.99), nx: 256, ny: 256)
        #expect(pole.minRa == 0 && pole.maxRa == 360 && pole.maxDec == 90 && pole.minDec < 89.99)
        let south = try Footprint(wcs: wcs(ra: 30, dec: -89.99), nx: 256, ny: 256)
        #expect(south.minRa == 0 && south.maxRa == 360 && south.minDec == -90)
    }

    @Test func transactionDataRefusesBadRecords() throws {
        let dir = try TestEnvironment.temporaryDirectory("imagemeta")
        defer { try? FileManager.default.removeItem(at: dir) }
        let meta = try FitsReader(try Self.goodImages()[0]).readImageMetadata()
        // (An unknown frame type cannot be written at all: FrameRecord.frameType is a FrameType.)
        var long = FrameRecord(multiframeID: 1, fileName: "/a.fit", frameType: .stack, programmeID: 101,
                               filterID: 2, cuEventID: 1)
        long.fileName = String(repeating: "x", count: 600)
        #expect {
            _ = try ImageMetadataLoad.makeTransactionData([(meta, long)], into: dir)
        } throws: { ($0 as? WrapperError)?.code == .wrongContents }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// Images and confidence maps with what the archive adds (confs first: images point at them).
    static func frames() throws -> [(ImageMetadata, FrameRecord)] {
        let rows = try csv("truth/detectors.csv")
        var frames: [(ImageMetadata, FrameRecord)] = []
        for (i, image) in try goodImages().enumerated() {
            let reader = try FitsReader(image)
            let programme = try reader.getProgramID()
            let meta = try reader.readImageMetadata()
            let confPath = image.replacingOccurrences(of: ".fit", with: "_conf.fit")
            let conf = try FitsReader(confPath).readImageMetadata()
            let confID = Int64(1000 + 2 * i), imageID = confID + 1
            func record(_ path: String, id: Int64, type: FrameType) throws -> FrameRecord {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                return FrameRecord(multiframeID: id, fileName: "/disk01/wsa/ingest/fits/" + relative(path),
                                   frameType: type, programmeID: programmeIDs[programme]!,
                                   filterID: filterIDs[meta.filterName]!, fileSize: Int64(bytes.count),
                                   checksum: SHA256.hash(bytes).hexString, fileTimeStamp: 20051013093000,
                                   cuEventID: 7)
            }
            var imageRecord = try record(image, id: imageID, type: .stack)
            imageRecord.confID = confID
            imageRecord.catName = imageRecord.fileName.replacingOccurrences(of: ".fit", with: "_cat.fits")
            imageRecord.compFiles = [2: "/disk01/wsa/jpeg/\(imageID)_2.jpg", 4: "/disk01/wsa/jpeg/\(imageID)_4.jpg"]
            for d in meta.detectors {
                let row = rows.first { $0["file"] == relative(image) && $0["extension"] == String(d.camNum) }
                if let n = row?["catalogue_rows"].flatMap(Int.init), d.extNum != 5 { imageRecord.tableRows[d.extNum] = n }
            }
            frames.append((conf, try record(confPath, id: confID, type: .conf)))
            frames.append((meta, imageRecord))
        }
        return frames
    }

    @Test(.enabled(if: TestEnvironment.hasDatabase))
    func loadsIntoTheArchive() throws {
        let spool = try TestEnvironment.temporaryDirectory("imagemeta")
        defer { try? FileManager.default.removeItem(at: spool) }
        let frames = try Self.frames()
        #expect(frames.count == 16)
        let data = try ImageMetadataLoad.makeTransactionData(frames, into: spool)
        #expect(data.map(\.table) == ["Multiframe", "MultiframeDetector", "CurrentAstrometry"])
        #expect(data.map(\.rowCount) == [16, 64, 64])
        #expect(try TransactionFile.manifest(for: data[0].dataFile).columns == ImageMetadataLoad.multiframeColumns)

        try TestDatabase.withFresh(prefix: "imagemeta") { conninfo in
            let db = try PostgresConnection(conninfo)
            defer { db.close() }
            try SchemaMigrator(directory: TestEnvironment.packageRoot.appendingPathComponent("sql")).migrate(on: db)
            try db.transaction { db in
                for tx in data {
                    let loaded = try TransactionFile.verifyAndCopy(tx.dataFile, manifest: TransactionFile.manifest(for: tx.dataFile), on: db)
                    #expect(loaded == tx.rowCount)
                }
            }
            for (table, count) in [("Multiframe", 16), ("MultiframeDetector", 64), ("CurrentAstrometry", 64)] {
                #expect(try db.queryValue(Int64.self, "SELECT count(*) FROM \(unsafeSQL: table)") == Int64(count))
            }

            for (meta, record) in frames {
                let m = try #require(try db.query("SELECT * FROM Multiframe WHERE multiframeID = $1",
                                                  [.int64(record.multiframeID)]).first)
                #expect(try m.decode(String.self, "fileName") == record.fileName)
                #expect(try m.decode(Int32.self, "version") == 1)
                #expect(try m.decode(String.self, "catName") == record.catName)
                #expect(try m.decode(Int64.self, "fileTimeStamp") == record.fileTimeStamp)
                #expect(try m.decode(String.self, "frameType") == record.frameType.rawValue)
                #expect(try m.decode(Int32.self, "programmeID") == record.programmeID)
                #expect(try m.decode(String.self, "project") == meta.project)
                #expect(try m.decode(String.self, "msbID") == meta.msbID)
                #expect(try m.decode(Int32.self, "obsNum") == meta.obsNum)
                #expect(try m.decode(Int16.self, "filterID") == record.filterID)
                #expect(try m.decode(String.self, "filterName") == meta.filterName)
                #expect(try m.decode(Double.self, "mjdObs") == meta.mjdObs)
                #expect(try m.decode(Float.self, "expTime") == meta.expTime)
                #expect(try m.decode(Float.self, "amStart") == meta.amStart)
                #expect(try m.decode(Float.self, "amEnd") == meta.amEnd)
                #expect(try m.decode(Double.self, "raBase") == meta.raBase)
                #expect(try m.decode(Double.self, "decBase") == meta.decBase)
                #expect(try m.decode(String.self, "casuVers") == meta.casuVers)
                #expect(try m.decode(Int64.self, "confID") == record.confID)
                #expect(try m.decode(Int64.self, "fileSize") == record.fileSize)
                #expect(try m.decode(String.self, "checksum") == record.checksum)
                #expect(try m.decode(Int16.self, "deprecated") == 0)
                #expect(try m.decode(Int32.self, "cuEventID") == 7)

                let detectors = try db.query("""
                    SELECT * FROM MultiframeDetector JOIN CurrentAstrometry USING (multiframeID, extNum)
                    WHERE multiframeID = $1 ORDER BY extNum
                    """, [.int64(record.multiframeID)])
                #expect(detectors.count == 4)
                for (r, d) in zip(detectors, meta.detectors) {
                    #expect(try r.decode(Int16.self, "extNum") == Int16(d.extNum))
                    #expect(try r.decode(Int16.self, "camNum") == d.camNum)
                    #expect(try r.decode(String.self, "deviceID") == d.deviceID)
                    #expect(try r.decode(Int32.self, "julianDayNum") == 2_453_656)
                    #expect(try r.decode(Int16.self, "bitsPerPix") == d.bitsPerPix)
                    #expect(try r.decode(Int32.self, "axis1Length") == d.axis1)
                    #expect(try r.decode(Int32.self, "axis2Length") == d.axis2)
                    for (column, value) in [("seeing", d.seeing), ("avStellarEll", d.avStellarEll),
                                            ("skyLevel", d.skyLevel), ("skyNoise", d.skyNoise),
                                            ("photZPCat", d.photZPCat), ("photZPErrCat", d.photZPErrCat),
                                            ("photZP", d.photZPCat), ("photZPErr", d.photZPErrCat),
                                            ("extinctionCat", d.extinctionCat), ("totalExpTime", d.totalExpTime),
                                            ("stdCRms", d.stdCRms), ("xPixSize", d.xPixSize), ("yPixSize", d.yPixSize),
                                            ("aperCor3", Float(-0.9999995e9))] {
                        #expect(try r.decode(Float.self, column) == value, "\(column)")
                    }
                    #expect(try r.decode(Int32.self, "numZPCat") == d.numZPCat)
                    #expect(try r.decode(Int16.self, "zpVersion") == 0)
                    #expect(try r.decode(Int32.self, "tableRows") == Int32(record.tableRows[d.extNum] ?? -99999999))
                    #expect(try r.decode(String.self, "compFile") == record.compFiles[d.extNum] ?? "NONE")
                    for k in 0..<4 {
                        #expect(try r.decode(Double.self, "raCorner\(k + 1)") == d.corners[k].ra)
                        #expect(try r.decode(Double.self, "decCorner\(k + 1)") == d.corners[k].dec)
                    }
                    #expect(try r.decode(String.self, "ctypeX") == d.ctypeX)
                    #expect(try r.decode(String.self, "ctypeY") == d.ctypeY)
                    for (column, value) in [("crValX", d.crValX), ("crValY", d.crValY), ("crPixX", d.crPixX),
                                            ("crPixY", d.crPixY), ("cd11", d.cd11), ("cd12", d.cd12),
                                            ("cd21", d.cd21), ("cd22", d.cd22), ("pv21", d.pv21),
                                            ("pv22", d.pv22), ("pv23", d.pv23), ("centralRa", d.centralRa),
                                            ("centralDec", d.centralDec), ("minRa", d.minRa), ("maxRa", d.maxRa),
                                            ("minDec", d.minDec), ("maxDec", d.maxDec)] {
                        #expect(try r.decode(Double.self, column) == value, "\(column)")
                    }
                    #expect(try r.decode(Int32.self, "numRms") == d.numRms)
                }
            }

            // A cone about each image's base position finds its four detectors, and only nearby ones.
            for (meta, record) in frames where record.frameType == .stack {
                let (ra, dec) = (meta.raBase * 15, meta.decBase)
                let found = try db.query("""
                    SELECT multiframeID, extNum, centralRa, centralDec FROM CurrentAstrometry
                    WHERE q3c_radial_query(centralRa, centralDec, $1, $2, 0.2)
                    """, [.float64(ra), .float64(dec)])
                let ids = try Set(found.map { "\(try $0.decode(Int64.self, at: 0))/\(try $0.decode(Int16.self, at: 1))" })
                for ext in 2...5 { #expect(ids.contains("\(record.multiframeID)/\(ext)")) }
                let sameProgramme = frames.filter { $0.1.programmeID == record.programmeID }.count * 4
                #expect(ids.count == sameProgramme, "one pointing per programme: all its detectors, none of the other's")
            }
        }
    }
}
