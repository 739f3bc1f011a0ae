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

/// FitsReader on simulated CASU deliveries, checked against the simulator's truth.
@Suite(.serialized) struct FitsReaderTests {
    /// One LAS night (Y J H K, one pointing) with every kind of damaged file; made once.
    static let night = SimulatedNights.make("wsa-fitsreader-night-seed11-v1", seed: 11, size: 384, corrupt: 5,
                                            starDensity: 3, galaxyDensity: 0.5)

    static func files(_ suffix: String) throws -> [String] {
        let nightDir = night.appendingPathComponent("20051012_v1")
        return try FileManager.default.contentsOfDirectory(atPath: nightDir.path)
            .filter { $0.hasSuffix(suffix) }.sorted().map { nightDir.appendingPathComponent($0).path }
    }

    static func corrupt() throws -> [String: String] {
        let text = try String(contentsOf: night.appendingPathComponent("truth/corrupt.csv"), encoding: .utf8)
        var kinds: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: ",", maxSplits: 2).map(String.init)
            kinds[night.appendingPathComponent(parts[0]).path] = parts[1]
        }
        return kinds
    }

    @Test func imagesAndCataloguesAreTold() throws {
        let damaged = try Self.corrupt()
        let images = try Self.files("_sf_st.fit").filter { damaged[$0] == nil }
        #expect(images.count == 4)
        for path in images {
            let image = try FitsReader(path)
            #expect(try image.getProgramID() == "LAS")
            #expect(image.getImageArrays() == [2, 3, 4, 5])
            #expect(image.getCatalogArrays().isEmpty)
            #expect(!image.isImageContainer(1) && !image.isImageContainer(9))
            image.close()
            let catalogue = try FitsReader(path.replacingOccurrences(of: ".fit", with: "_cat.fits"))
            #expect(catalogue.getCatalogArrays() == [2, 3, 4, 5])
            #expect(catalogue.getImageArrays().isEmpty)
            #expect(try catalogue.getProgramID() == "LAS")
        }
    }

    @Test func damagedFilesGiveOneClearErrorNamingTheFile() throws {
        for (path, kind) in try Self.corrupt() {
            do {
                let reader = try FitsReader(path)
                let programme = try reader.getProgramID()
                switch kind {
                case "unknown_project": #expect(programme == "XYZ")  // known or not is the database's call
                case "bad_header": Issue.record("\(kind) was read: \(path)")
                default: break
                }
            } catch {
                #expect(error.description.hasPrefix(path), "\(error)")
                #expect(!error.description.contains("\n"))
                if kind == "bad_header" { #expect(error.code == .unreadable) }
            }
        }
        let missing = Self.night.appendingPathComponent("nope.fit").path
        #expect(throws: WrapperError.self) { try FitsReader(missing) }
    }

    @Test func aCatalogueWithoutWCSIsRefused() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let catalogue = try Self.files("_sf_st_cat.fits").first { !(try Self.corrupt()).keys.contains($0) }!
        let copy = dir.appendingPathComponent("nowcs_cat.fits").path
        try FileManager.default.copyItem(atPath: catalogue, toPath: copy)
        let f = try FITSFile.open(copy, mode: .readWrite)
        try f.moveTo(hdu: 2)
        for key in ["CTYPE1", "CTYPE2"] { try f.deleteKey(key) }
        try f.close()
        let reader = try FitsReader(copy)
        let target = DetectionTarget(table: "lasDetection", multiframeID: 1, extNum: 1, filterID: 2, cuEventID: 1)
        #expect {
            _ = try reader.makeTransactionData(catalogue: 2, target: target, into: dir)
        } throws: { ($0 as? WrapperError)?.code == .noWCS }
        #expect {
            _ = try reader.makeTransactionData(catalogue: 1, target: target, into: dir)
        } throws: { ($0 as? WrapperError)?.code == .wrongContents }
    }

    struct Detection { var x, y: Double; var ra, dec: Double; var mag, magErr: Double }

    @Test(.enabled(if: TestEnvironment.hasDatabase))
    func detectionsMatchTheTruth() throws {
        let spool = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let damaged = try Self.corrupt()
        let catalogues = try Self.files("_sf_st.fit").filter { damaged[$0] == nil }
            .map { $0.replacingOccurrences(of: ".fit", with: "_cat.fits") }
        #expect(catalogues.count == 4)

        // Truth per (file, extension): x, y, magnitude of every star drawn.
        let truth = try TruthFrames(night: Self.night)
        let (tX, tY, tMag, tType) = (truth.x, truth.y, truth.mag, truth.type)

        try TestDatabase.withFresh(prefix: "fitsreader") { conninfo in
            let db = try PostgresConnection(conninfo)
            defer { db.close() }
            try SchemaMigrator(directory: TestEnvironment.packageRoot.appendingPathComponent("sql")).migrate(on: db)
            var matched = 0, tested = 0, withinErrors = 0
            for (index, path) in catalogues.enumerated() {
                let reader = try FitsReader(path)
                for ext in reader.getCatalogArrays() {
                    let target = DetectionTarget(table: "lasDetection", multiframeID: Int64(index + 1),
                                                 extNum: Int16(ext - 1), filterID: 2, cuEventID: 1)
                    let tx = try reader.makeTransactionData(catalogue: ext, target: target, into: spool)
                    try TransactionFile.verify(tx.dataFile, against: TransactionFile.manifest(for: tx.dataFile))
                    let loaded = try db.copyIn(into: tx.table, columns: try TransactionFile.manifest(for: tx.dataFile).columns,
                                               format: .binary, contentsOf: tx.dataFile.path)
                    #expect(loaded == tx.rowCount)

                    let rows = try db.query("""
                        SELECT x, y, ra, dec, aperMag3, aperMag3Err FROM lasDetection
                        WHERE multiframeID = $1 AND extNum = $2 AND aperMag3 > -1e8
                        """, [.int64(target.multiframeID), .int16(target.extNum)])
                    let found = try rows.map {
                        Detection(x: Double(try $0.decode(Float.self, at: 0)), y: Double(try $0.decode(Float.self, at: 1)),
                                  ra: try $0.decode(Double.self, at: 2), dec: try $0.decode(Double.self, at: 3),
                                  mag: Double(try $0.decode(Float.self, at: 4)), magErr: Double(try $0.decode(Float.self, at: 5)))
                    }
                    try #require(!found.isEmpty)
                    // The catalogue limit: where magnitude errors pass 0.1 (10σ), less a margin.
                    let noisy = found.filter { $0.magErr > 0.1 }.map(\.mag).sorted()
                    let limit = (noisy.isEmpty ? found.map(\.mag).max()! : noisy[noisy.count / 10]) - 0.5
                    let bright = found.map(\.mag).min()! + 2  // clear of saturation

                    let image = path.replacingOccurrences(of: "_cat.fits", with: ".fit")
                    let relative = String(image.dropFirst(Self.night.path.count + 1))
                    let wcs: WCS = try {
                        let f = try FITSFile.open(path)
                        try f.moveTo(hdu: ext)
                        return try f.wcs()
                    }()
                    let stars = truth.on(relative, camera: ext - 1)
                    let all = stars.map { (tX[$0], tY[$0]) }
                    for i in stars where tType[i] == "star" && tMag[i] < limit && tMag[i] > bright {
                        // Isolated: no other truth source within 8 pixels.
                        let neighbours = all.filter { abs($0.0 - tX[i]) < 8 && abs($0.1 - tY[i]) < 8 }.count
                        guard neighbours == 1, tX[i] > 10, tY[i] > 10, tX[i] < 374, tY[i] < 374 else { continue }
                        tested += 1
                        let truthSky = try wcs.pixelToSky(PixelPosition(x: tX[i], y: tY[i]))
                        let nearest = found.min { hypot($0.x - tX[i], $0.y - tY[i]) < hypot($1.x - tX[i], $1.y - tY[i]) }!
                        let separation = hypot((nearest.ra - truthSky.ra) * cos(truthSky.dec * .pi / 180),
                                               nearest.dec - truthSky.dec) * 3600
                        if separation < 0.2 {
                            matched += 1
                            if abs(nearest.mag - tMag[i]) < 3 * nearest.magErr + 0.01 { withinErrors += 1 }
                        }
                    }
                }
            }
            #expect(tested > 40, "too few truth stars to test: \(tested)")
            #expect(Double(matched) >= 0.97 * Double(tested), "matched \(matched) of \(tested) within 0.2″")
            #expect(Double(withinErrors) >= 0.95 * Double(matched), "\(withinErrors) of \(matched) within 3σ")
        }
    }
}
