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

/// CatExDriver (source-extractor) on simulated CASU frames, checked against the simulator's truth.
@Suite(.serialized) struct CatExDriverTests {
    static let size = 512
    /// One LAS night (Y J H K, one pointing, one exposure); made once.
    static let night = SimulatedNights.make("wsa-catex-night-seed4-s512-v1", seed: 4, size: size,
                                            starDensity: 8, galaxyDensity: 0.5)

    static var images: [String] {
        let dir = night.appendingPathComponent("20051012_v1")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix("_sf_st.fit") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    static var hasTool: Bool { AppDriver().missingTools([CatExDriver.tool]).isEmpty }

    /// The zero point a frame's truth magnitudes follow: MAGZPT − EXTINCT·(X − 1) − PERCORR.
    struct Frame { var zeroPoint, exposure, seeing, sky, skyNoise, gain: Double }

    static func frame(_ image: String, hdu: Int) throws -> Frame {
        let f = try FITSFile.open(image)
        defer { try? f.close() }
        let exposure = try f.requireDouble("EXP_TIME")
        let airmass = (try f.requireDouble("AMSTART") + f.requireDouble("AMEND")) / 2
        try f.moveTo(hdu: hdu)
        let zp = try f.requireDouble("MAGZPT") - f.requireDouble("EXTINCT") * (airmass - 1)
            - (f.readKey("PERCORR")?.doubleValue ?? 0)
        return Frame(zeroPoint: zp, exposure: exposure, seeing: try f.requireDouble("SEEING"),
                     sky: try f.requireDouble("SKYLEVEL"), skyNoise: try f.requireDouble("SKYNOISE"),
                     gain: try f.requireDouble("GAIN") * f.requireDouble("NICOMB"))
    }

    static func extract(_ image: String, hdu: Int, into work: URL) async throws -> ExtractedCatalogue {
        let frame = try frame(image, hdu: hdu)
        return try await CatExDriver.extractSources(
            image: image, hdu: hdu, weight: image.replacingOccurrences(of: ".fit", with: "_conf.fit"),
            zeroPoint: frame.zeroPoint, exposureTime: frame.exposure, appDriver: AppDriver(), workDirectory: work)
    }

    @Test func configurationFilesAreInTheBundleAndAgreeWithTheCode() throws {
        let dir = try CatExDriver.configurationDirectory()
        for name in [CatExDriver.configurationFile, CatExDriver.parameterFile, CatExDriver.filterFile,
                     CatExDriver.neuralNetworkFile] {
            #expect(FileManager.default.isReadableFile(atPath: dir.appendingPathComponent(name).path), "\(name) in \(dir.path)")
        }
        let param = try String(contentsOf: dir.appendingPathComponent(CatExDriver.parameterFile), encoding: .utf8)
        let listed = param.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(listed == CatExDriver.outputParameters)
        let settings = CatExDriver.Settings.parse(
            try String(contentsOf: dir.appendingPathComponent(CatExDriver.configurationFile), encoding: .utf8))
        let apertures = try #require(settings["PHOT_APERTURES"]).split(separator: ",").compactMap { Double($0) }
        #expect(apertures.count == 13)
        for (file, code) in zip(apertures, CatExDriver.apertureDiameters) { #expect(abs(file - code) < 1e-3) }
        #expect(abs(CatExDriver.apertureDiameters[2] - 5) < 1e-12)  // aperture 3: 1″ radius
        #expect(settings["CATALOG_TYPE"] == "FITS_1.0" && settings["WEIGHT_TYPE"] == "MAP_WEIGHT")
    }

    @Test func classFollowsClassStarAndSaturation() {
        let cases: [(Double, Int, Int16)] = [(0.98, 0, -1), (0.8, 0, -1), (0.6, 0, -2), (0.3, 0, -3),
                                             (0.2, 0, 1), (0.01, 0, 1), (0.99, 4, -9), (.nan, 0, -9999)]
        for (classStar, flags, expected) in cases {
            #expect(ExtractedCatalogue.classification(classStar: classStar, flags: flags) == expected)
        }
    }

    @Test(.enabled(if: CatExDriverTests.hasTool))
    func detectionsMatchTheTruth() async throws {
        let work = try TestEnvironment.temporaryDirectory("catex")
        defer { try? FileManager.default.removeItem(at: work) }
        let truth = try TruthFrames(night: Self.night)
        #expect(Self.images.count == 4)
        var tested = 0, matched = 0, within = 0, strictly = 0, within13 = 0
        var offsets: [Double] = [], apcorDifferences: [Double] = []
        for image in Self.images {
            let relative = String(image.dropFirst(Self.night.path.count + 1))
            for hdu in 2...5 {
                let frame = try Self.frame(image, hdu: hdu)
                let catalogue = try await Self.extract(image, hdu: hdu, into: work)
                #expect(catalogue.rowCount > 20)
                #expect(catalogue.catalogueFile.lastPathComponent == "\(URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent).\(hdu).catex.fits")
                #expect(FileManager.default.fileExists(atPath: catalogue.catalogueFile.path))
                #expect(catalogue.correctionStars >= ExtractedCatalogue.minimumCorrectionStars)

                // CASU's own APCOR3 for this detector (the simulator's exact Moffat value).
                let cat = try FITSFile.open(image.replacingOccurrences(of: ".fit", with: "_cat.fits"))
                try cat.moveTo(hdu: hdu)
                let casuApcor3 = try cat.requireDouble("APCOR3")
                try cat.close()
                apcorDifferences.append(catalogue.apertureCorrections[2] - casuApcor3)

                let (mag3, err3) = catalogue.apertureMagnitudes(3)
                let (mag13, err13) = catalogue.apertureMagnitudes(13)
                // Expected S/N in aperture 3 (r = 2.5 px) of a Moffat (β = 3) star, from the
                // header's sky noise and gain; unsaturated: peak plus sky below 80 % of 38000 ADU.
                let alpha = frame.seeing / (2 * (pow(2, 1.0 / 3) - 1).squareRoot())
                let peakPerFlux = 2 / (Double.pi * alpha * alpha)
                let inside = 1 - pow(1 + 6.25 / (alpha * alpha), -2)
                func signalToNoise(_ mag: Double) -> Double {
                    let f3 = inside * frame.exposure * pow(10, 0.4 * (frame.zeroPoint - mag))
                    return f3 / (Double.pi * 6.25 * frame.skyNoise * frame.skyNoise + f3 / frame.gain).squareRoot()
                }
                let wcs: WCS = try {
                    let f = try FITSFile.open(image)
                    defer { try? f.close() }
                    try f.moveTo(hdu: hdu)
                    return try f.wcs()
                }()
                let x = catalogue.column("X_IMAGE"), y = catalogue.column("Y_IMAGE")
                let on = truth.on(relative, camera: hdu - 1)
                for i in on where truth.type[i] == "star" && signalToNoise(truth.mag[i]) >= 20 {
                    let flux = frame.exposure * pow(10, 0.4 * (frame.zeroPoint - truth.mag[i]))
                    guard frame.sky + flux * peakPerFlux < 0.8 * 38000 else { continue }
                    let (tx, ty) = (truth.x[i], truth.y[i])
                    guard tx > 10, ty > 10, tx < Double(Self.size) - 10, ty < Double(Self.size) - 10 else { continue }
                    let crowded = on.contains { j in
                        j != i && hypot(truth.x[j] - tx, truth.y[j] - ty) < 8 && truth.mag[j] < truth.mag[i] + 4
                    }
                    if crowded { continue }
                    tested += 1
                    let truthSky = try wcs.pixelToSky(PixelPosition(x: tx, y: ty))
                    guard let k = x.indices.min(by: { hypot(x[$0] - tx, y[$0] - ty) < hypot(x[$1] - tx, y[$1] - ty) })
                    else { continue }
                    let p = catalogue.positions[k]
                    let separation = hypot((p.ra - truthSky.ra) * cos(truthSky.dec * .pi / 180), p.dec - truthSky.dec) * 3600
                    guard separation < 0.2 else { continue }
                    matched += 1
                    offsets.append(separation)
                    // 3σ plus 0.01 mag for the aperture correction (as FitsReaderTests allow CASU's).
                    let residual = abs(Double(mag3[k]) - truth.mag[i])
                    if residual <= 3 * Double(err3[k]) + 0.01 { within += 1 }
                    if residual <= 3 * Double(err3[k]) { strictly += 1 }
                    if abs(Double(mag13[k]) - truth.mag[i]) <= 3 * Double(err13[k]) { within13 += 1 }
                }
            }
        }
        offsets.sort()
        let median = offsets.isEmpty ? .nan : offsets[offsets.count / 2]
        let apcorOffset = apcorDifferences.sorted()[apcorDifferences.count / 2]
        print("catex: \(matched)/\(tested) matched within 0.2″, median offset \(String(format: "%.3f", median))″, "
              + "max \(String(format: "%.3f", offsets.last ?? .nan))″; aperMag3 within 3σ + 0.01: \(within)/\(matched) "
              + "(3σ alone \(strictly)), "
              + "aperMag13: \(within13)/\(matched); APCOR3 − CASU median \(String(format: "%+.4f", apcorOffset)), "
              + "range \(String(format: "%+.4f … %+.4f", apcorDifferences.min()!, apcorDifferences.max()!))")
        #expect(tested > 40, "too few truth stars to test: \(tested)")
        #expect(Double(matched) >= 0.97 * Double(tested), "matched \(matched) of \(tested) within 0.2″")
        #expect(Double(within) >= 0.95 * Double(matched), "aperMag3: \(within) of \(matched) within 3σ + 0.01")
        #expect(apcorDifferences.allSatisfy { abs($0) < 0.03 }, "derived APCOR3 − CASU: \(apcorDifferences)")
        // Only the kept catalogues remain in the work directory.
        let left = try FileManager.default.contentsOfDirectory(atPath: work.path)
        #expect(left.count == 16 && left.allSatisfy { $0.hasSuffix(".catex.fits") }, "\(left)")
    }

    @Test(.enabled(if: CatExDriverTests.hasTool && TestEnvironment.hasDatabase))
    func transactionFileLoadsIntoTheDetectionTable() async throws {
        let work = try TestEnvironment.temporaryDirectory("catex")
        defer { try? FileManager.default.removeItem(at: work) }
        let image = try #require(Self.images.first)
        let catalogue = try await Self.extract(image, hdu: 3, into: work)
        let target = DetectionTarget(table: "lasDetection", multiframeID: 77, extNum: 2, filterID: 2, cuEventID: 5)
        let tx = try catalogue.makeTransactionData(target: target, into: work.appendingPathComponent("spool"))
        #expect(tx.rowCount == catalogue.rowCount)
        #expect(try TransactionFile.manifest(for: tx.dataFile).columns == CASUCatalogue.detectionColumns)
        let (mag3, err3) = catalogue.apertureMagnitudes(3)

        try TestDatabase.withFresh(prefix: "catex") { conninfo in
            let db = try PostgresConnection(conninfo)
            defer { db.close() }
            try SchemaMigrator(directory: TestEnvironment.packageRoot.appendingPathComponent("sql")).migrate(on: db)
            try db.transaction { db in
                let loaded = try TransactionFile.verifyAndCopy(tx.dataFile, manifest: TransactionFile.manifest(for: tx.dataFile), on: db)
                #expect(loaded == catalogue.rowCount)
            }
            let rows = try db.query("""
                SELECT seqNum, ra, dec, aperMag3, aperMag3Err, class, classStat, kronMag, petroMag, skyVar, objID
                FROM lasDetection WHERE multiframeID = 77 AND extNum = 2 ORDER BY seqNum
                """)
            #expect(rows.count == catalogue.rowCount)
            let number = catalogue.column("NUMBER"), classStar = catalogue.column("CLASS_STAR")
            let order = number.indices.sorted { number[$0] < number[$1] }
            var kron = 0, skyVar: [Double] = []
            for (row, i) in zip(rows, order) {
                #expect(try row.decode(Int32.self, at: 0) == Int32(number[i]))
                #expect(abs(try row.decode(Double.self, at: 1) - catalogue.positions[i].ra) < 1e-9)
                #expect(abs(try row.decode(Double.self, at: 2) - catalogue.positions[i].dec) < 1e-9)
                #expect(try row.decode(Float.self, at: 3) == mag3[i])
                #expect(try row.decode(Float.self, at: 4) == err3[i])
                #expect(try row.decode(Int16.self, at: 5) == ExtractedCatalogue.classification(
                    classStar: classStar[i], flags: Int(catalogue.column("FLAGS")[i])))
                #expect(try row.decode(Float.self, at: 6) == Float(classStar[i]))
                if try row.decode(Float.self, at: 7) > 0 { kron += 1 }
                skyVar.append(Double(try row.decode(Float.self, at: 9)))
                #expect(try row.decode(Int64.self, at: 10) == 77 << 23 | 2 << 20 | Int64(number[i]))
            }
            #expect(kron > rows.count / 2)
            // skyVar (THRESHOLD / DETECT_THRESH) is the local noise: near CASU's SKYNOISE.
            let f = try FITSFile.open(image)
            try f.moveTo(hdu: 3)
            let skyNoise = try f.requireDouble("SKYNOISE")
            try f.close()
            let medianNoise = skyVar.sorted()[skyVar.count / 2]
            #expect(abs(medianNoise / skyNoise - 1) < 0.3, "skyVar median \(medianNoise), SKYNOISE \(skyNoise)")
            let nulls = try db.queryValue(Int64.self, "SELECT count(*) FROM lasDetection WHERE hallMag <> (-0.9999995e9)::real OR areal2 <> (-0.9999995e9)::real")
            #expect(nulls == 0)
        }
    }

    @Test(.enabled(if: CatExDriverTests.hasTool))
    func aCorruptImageIsOneClearErrorAndLeavesNothing() async throws {
        let work = try TestEnvironment.temporaryDirectory("catex")
        defer { try? FileManager.default.removeItem(at: work) }
        let image = try #require(Self.images.first)
        let data = try Data(contentsOf: URL(fileURLWithPath: image))
        let corrupt = work.appendingPathComponent("corrupt").appendingPathComponent("w20051012_99999_sf_st.fit")
        try FileManager.default.createDirectory(at: corrupt.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Cut the file inside HDU 2's compressed pixels; and scribble over HDU 3's.
        let f0 = try FITSFile.open(image)
        let hduSizes = try f0.hdus()
        try f0.close()
        #expect(hduSizes.count == 5)
        try data.prefix(2880 * 4 + 20_000).write(to: corrupt)
        var scribbled = data
        let middle = data.count * 5 / 8
        for k in middle..<(middle + 4000) { scribbled[k] = UInt8(truncatingIfNeeded: k &* 7919) }
        let scribbledFile = corrupt.deletingLastPathComponent().appendingPathComponent("w20051012_99998_sf_st.fit")
        try scribbled.write(to: scribbledFile)
        let scratch = work.appendingPathComponent("scratch")
        for (file, hdu) in [(corrupt.path, 2), (scribbledFile.path, 4)] {
            do {
                _ = try await CatExDriver.extractSources(image: file, hdu: hdu, weight: nil, zeroPoint: 23,
                                                         exposureTime: 10, appDriver: AppDriver(), workDirectory: scratch)
                Issue.record("a damaged image was extracted (\(file) HDU \(hdu))")
            } catch {
                #expect(error.code == .unreadable, "\(error)")
                #expect(error.description.hasPrefix(file), "\(error)")
                #expect(!error.description.contains("\n"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        }
        // Not an image HDU, and a confidence map of the wrong size.
        do {
            _ = try await CatExDriver.extractSources(image: image, hdu: 9, weight: nil, zeroPoint: 23, exposureTime: 10,
                                                     appDriver: AppDriver(), workDirectory: scratch)
            Issue.record("HDU 9 was extracted")
        } catch {
            #expect(error.code == .wrongContents && error.file == image, "\(error)")
        }
        let small = work.appendingPathComponent("small_conf.fit")
        let f = try FITSFile.create(small.path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.createImage(bitpix: .int16, dimensions: [10, 10])
        try f.writePixels([Int16](repeating: 100, count: 100))
        try f.close()
        do {
            _ = try await CatExDriver.extractSources(image: image, hdu: 2, weight: small.path, zeroPoint: 23,
                                                     exposureTime: 10, appDriver: AppDriver(), workDirectory: scratch)
            Issue.record("a confidence map of the wrong size was used")
        } catch {
            #expect(error.code == .wrongContents && error.file == small.path, "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func aMissingToolNamesThePackage() async throws {
        let work = try TestEnvironment.temporaryDirectory("catex")
        defer { try? FileManager.default.removeItem(at: work) }
        let driver = AppDriver(toolPaths: ["source_extractor": "no-such-source-extractor"])
        do {
            _ = try await CatExDriver.extractSources(image: Self.images[0], hdu: 2, weight: nil, zeroPoint: 23,
                                                     exposureTime: 10, appDriver: driver, workDirectory: work)
            Issue.record("ran without a tool")
        } catch {
            #expect(error.code == .toolMissing)
            #expect(error.tool == "source-extractor")
            #expect(error.description.contains("install the Debian package source-extractor"), "\(error)")
            #expect(!error.description.contains("\n"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    @Test func aFailingOrCrashingToolLeavesNoCatalogue() async throws {
        let work = try TestEnvironment.temporaryDirectory("catex")
        defer { try? FileManager.default.removeItem(at: work) }
        let scripts: [(String, WrapperError.Code, String)] = [
            // Writes a catalogue, then fails the way source-extractor does.
            ("for a; do case $p in -CATALOG_NAME) echo partial > \"$a\";; esac; p=$a; done\n"
             + "printf '\\033[1M> \\n> *Error*: simulated failure in image.fits\\n' >&2; exit 1", .failed,
             "*Error*: simulated failure in image.fits"),
            ("for a; do case $p in -CATALOG_NAME) echo partial > \"$a\";; esac; p=$a; done\n"
             + "echo '> Measuring objects' >&2; kill -SEGV $$", .signalled, "Measuring objects"),
        ]
        for (n, (body, code, line)) in scripts.enumerated() {
            let tool = work.appendingPathComponent("fake-sex-\(n)")
            try "#!/bin/sh\n\(body)\n".write(to: tool, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
            let scratch = work.appendingPathComponent("scratch-\(n)")
            let image = Self.images[0]
            do {
                _ = try await CatExDriver.extractSources(
                    image: image, hdu: 2, weight: image.replacingOccurrences(of: ".fit", with: "_conf.fit"),
                    zeroPoint: 23, exposureTime: 10, appDriver: AppDriver(toolPaths: ["source_extractor": tool.path]),
                    workDirectory: scratch)
                Issue.record("a failing tool gave a catalogue")
            } catch {
                #expect(error.code == code, "\(error)")
                #expect(error.description.hasSuffix(line), "\(error)")
                #expect(!error.description.contains("\n"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        }
    }
}
