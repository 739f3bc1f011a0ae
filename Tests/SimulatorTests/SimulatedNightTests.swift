import FITS
import Foundation
import Testing
import TestSupport
@testable import SimulatorKit

/// A small simulated night (written once, shared by the tests of this file) checked against its
/// own truth: files valid, stars where the truth says, catalogue agreeing with the truth.
@Suite struct SimulatedNightTests {
    /// The shared night: LAS, 256-pixel detectors, one pointing, five damaged files.
    static let night: Result<URL, any Error> = Result { try SimulatedNightTests.simulate(seed: 11, corrupt: 5) }

    static func config(_ dir: URL, seed: UInt64, corrupt: Int) -> SimulationConfig {
        var c = SimulationConfig(outputDirectory: dir)
        c.seed = seed
        c.detectorSize = 256
        c.programmes = [.LAS]
        c.nights = [Night("20051012")!]
        c.pointings = 1
        c.exposures = 1
        c.corrupt = corrupt
        c.starDensity = 25
        c.galaxyDensity = 0.5
        return c
    }

    static func simulate(seed: UInt64, corrupt: Int, jobs: Int = 2) throws -> URL {
        let dir = try TestEnvironment.temporaryDirectory("wsatest-sim")
        Cleanup.register(dir)
        var c = config(dir, seed: seed, corrupt: corrupt)
        c.jobs = jobs
        try Simulator(config: c).run()
        return dir
    }

    static func corruptFiles(_ dir: URL) throws -> [(file: String, kind: String)] {
        let text = try String(contentsOf: dir.appendingPathComponent("truth/corrupt.csv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map {
            let parts = $0.split(separator: ",", maxSplits: 2).map(String.init)
            return (parts[0], parts[1])
        }
    }

    /// Every FITS file of the night except the deliberately damaged ones, relative paths.
    static func goodFiles(_ dir: URL) throws -> [String] {
        let damaged = Set(try corruptFiles(dir).map(\.file))
        var list: [String] = []
        let e = FileManager.default.enumerator(atPath: dir.path)!
        while let p = e.nextObject() as? String {
            if (p.hasSuffix(".fit") || p.hasSuffix(".fits")) && !damaged.contains(p) { list.append(p) }
        }
        return list.sorted()
    }

    @Test func deliveryLayoutAndMarker() throws {
        let dir = try Self.night.get()
        let nightDir = dir.appendingPathComponent("20051012_v1")
        let names = try FileManager.default.contentsOfDirectory(atPath: nightDir.path).sorted()
        #expect(names.contains("COMPLETE"))
        #expect(!names.contains { $0.hasSuffix(".part") })
        #expect(names.contains("w20051012_00001_sf_st.fit"))
        #expect(names.contains("w20051012_00001_sf_st_conf.fit"))
        #expect(names.contains("w20051012_00001_sf_st_cat.fits"))
        let marker = try String(contentsOf: nightDir.appendingPathComponent("COMPLETE"), encoding: .utf8)
        for n in names where n != "COMPLETE" { #expect(marker.contains(n)) }
        for f in ["truth/sources.fits", "truth/frames.fits", "truth/detectors.fits", "truth/sources.csv",
                  "truth/corrupt.csv", "external/twomass.fits"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
    }

    @Test func everyGoodFilePassesFitsverify() throws {
        let dir = try Self.night.get()
        let files = try Self.goodFiles(dir)
        #expect(files.count >= 12 + 5)
        for f in files {
            let verdict = try fitsverify(dir.appendingPathComponent(f).path)
            #expect(verdict.clean, "\(verdict.report)")
        }
    }

    /// astropy opens every HDU: CompImageHDU (Rice) image and confidence extensions, 80-column
    /// float32 catalogues with CASU's names, confidence median 100, keywords of §2.
    @Test func astropyOpensEveryHDU() throws {
        let dir = try Self.night.get()
        let files = try Self.goodFiles(dir).map { dir.appendingPathComponent($0).path }
        let script = """
        import sys, warnings, numpy as np
        from astropy.io import fits
        warnings.simplefilter('ignore')
        problems = []
        names = sys.argv[1].split(',')
        for path in sys.argv[2:]:
            with fits.open(path) as h:
                for hdu in h:
                    _ = hdu.data
                base = path.rsplit('/', 1)[-1]
                if base.endswith('_sf_st.fit') or base.endswith('_conf.fit'):
                    if len(h) != 5: problems.append(path + ': %d HDUs' % len(h))
                    p = h[0].header
                    for k in ['TELESCOP','INSTRUME','PROJECT','MSBID','OBSTYPE','OBJECT','FILTER','EXP_TIME','NEXP','NJITTER','NUSTEP','TILENUM','READMODE','UTDATE','DATE-OBS','DATE-END','MJD-OBS','OBSNUM','AMSTART','AMEND','RABASE','DECBASE','RADESYS','EQUINOX']:
                        if k not in p: problems.append(path + ': primary lacks ' + k)
                    for i in range(1, 5):
                        e = h[i]
                        if not isinstance(e, fits.CompImageHDU): problems.append(path + ': ext %d not compressed' % i); continue
                        if e._header.get('ZCMPTYPE') != 'RICE_1': problems.append(path + ': not RICE_1')
                        if e.header['CAMNUM'] != i: problems.append(path + ': CAMNUM')
                        if base.endswith('_conf.fit'):
                            if e.header['BITPIX'] != 16: problems.append(path + ': conf BITPIX')
                            d = e.data
                            if np.median(d[d > 0]) != 100: problems.append(path + ': conf median %s' % np.median(d[d > 0]))
                            if (d == 0).sum() == 0: problems.append(path + ': no dead pixels')
                        else:
                            if e.header['BITPIX'] != 32: problems.append(path + ': image BITPIX')
                            for k in ['CAMNUM','DETECTID','CNFINDEX','RUNID','GAIN','READNOIS','DET_TEMP','DROWS','DCOLUMNS','PIXLSIZE','DARKCOR','FLATCOR','SKYSUB','CIR_CPM','CIR_VERS','CTYPE1','CTYPE2','CRVAL1','CRVAL2','CRPIX1','CRPIX2','CD1_1','CD1_2','CD2_1','CD2_2','PV2_1','PV2_3','WCSPASS','NUMBRMS','STDCRMS','SKYLEVEL','SKYNOISE','SEEING','ELLIPTIC','MAGZPT','MAGZRR','EXTINCT','NUMZPT','NIGHTZPT','NIGHTZRR','NIGHTNUM','PERCORR','NICOMB','BUNIT']:
                                if k not in e.header: problems.append(path + ': ext lacks ' + k)
                if base.endswith('_cat.fits'):
                    if len(h) != 5: problems.append(path + ': %d HDUs' % len(h))
                    for i in range(1, 5):
                        t = h[i]
                        if not isinstance(t, fits.BinTableHDU): problems.append(path + ': not a table'); continue
                        if [c.name for c in t.columns] != names: problems.append(path + ': column names')
                        if any(str(c.format) not in ('E', '1E') for c in t.columns): problems.append(path + ': column formats')
                        for k in ['RCORE','THRESHOL','SKYLEVEL','SKYNOISE','SEEING','ELLIPTIC','CLASSIFD','APCORPK','APCOR1','APCOR2','APCOR3','APCOR4','APCOR5','APCOR6','APCOR7','MAGZPT','MAGZRR','EXTINCT','NUMBRMS','STDCRMS','WCSPASS','CTYPE1','CAMNUM']:
                            if k not in t.header: problems.append(path + ': table lacks ' + k)
                        if not all(t.header['APCOR%d' % k] > 0 for k in range(1, 8)): problems.append(path + ': APCOR not positive')
                        if len(t.data) < 5: problems.append(path + ': only %d rows' % len(t.data))
        print('\\n'.join(problems) if problems else 'OK')
        """
        let out = try runPython(script, [CatalogueColumns.names.joined(separator: ",")] + files)
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "OK", "\(out)")
    }

    /// Reads the per-frame truth (file, extension) → (id, x, y, flux, mag, type).
    struct Hit { var id: Int64; var x: Double; var y: Double; var flux: Double; var mag: Double; var type: String }

    static func truthHits(_ dir: URL) throws -> [String: [Hit]] {
        let f = try FITSFile.open(dir.appendingPathComponent("truth/frames.fits").path)
        try f.moveTo(hdu: 2)
        let files = try f.readStringColumn(try f.columnIndex("file"))
        let ext: [Int16] = try f.readColumn("extension")
        let ids: [Int64] = try f.readColumn("source_id")
        let x: [Double] = try f.readColumn("x"), y: [Double] = try f.readColumn("y")
        let flux: [Double] = try f.readColumn("flux")
        let mag: [Float] = try f.readColumn("mag")
        let type = try f.readStringColumn(try f.columnIndex("type"))
        var out: [String: [Hit]] = [:]
        for k in files.indices {
            out["\(files[k])#\(ext[k])", default: []].append(
                Hit(id: ids[k], x: x[k], y: y[k], flux: flux[k], mag: Double(mag[k]), type: type[k]))
        }
        return out
    }

    /// Stars with no other drawn source of more than 1% of their flux within `radius` pixels,
    /// away from the edges.
    static func isolatedStars(_ hits: [Hit], size: Int, radius: Double = 10) -> [Hit] {
        hits.filter { h in
            h.type == "star" && h.x > 12 && h.y > 12 && h.x < Double(size) - 12 && h.y < Double(size) - 12
                && !hits.contains { o in
                    o.id != h.id && o.flux > 0.01 * h.flux && hypot(o.x - h.x, o.y - h.y) < radius
                }
        }
    }

    /// A background-subtracted first-moment centroid in a small box on the image pixels lands
    /// within 0.1 pixel of the truth for isolated, well-exposed, unsaturated stars.
    @Test func starsAreWhereTheTruthPutsThem() throws {
        let dir = try Self.night.get()
        let truth = try Self.truthHits(dir)
        var checked = 0
        var worst = 0.0
        for image in try Self.goodFiles(dir) where image.hasSuffix("_sf_st.fit") {
            let file = try FITSFile.open(dir.appendingPathComponent(image).path)
            let conf = try FITSFile.open(dir.appendingPathComponent(image.replacingOccurrences(of: ".fit", with: "_conf.fit")).path)
            for ext in 1...4 {
                try file.moveTo(hdu: ext + 1)
                try conf.moveTo(hdu: ext + 1)
                let h = try file.header()
                let n = try #require(h.int("DROWS"))
                let noise = try #require(h.double("SKYNOISE"))
                let pixels: [Int32] = try file.readPixels()
                let weights: [Int16] = try conf.readPixels()
                for star in Self.isolatedStars(truth["\(image)#\(ext)"] ?? [], size: n) {
                    let ic = Int(star.x.rounded()) - 1, jc = Int(star.y.rounded()) - 1
                    // Background: median of an annulus 8–11 pixels out.
                    var ring: [Double] = []
                    var usable = true
                    for j in (jc - 11)...(jc + 11) {
                        for i in (ic - 11)...(ic + 11) {
                            let r = hypot(Double(i - ic), Double(j - jc))
                            if r <= 5, weights[j * n + i] == 0 { usable = false }
                            if r >= 8 && r <= 11 { ring.append(Double(pixels[j * n + i])) }
                        }
                    }
                    ring.sort()
                    let bg = ring[ring.count / 2]
                    let peak = Double(pixels[jc * n + ic]) - bg
                    guard usable, peak > 60 * noise, peak + bg < 30000 else { continue }
                    // First moments in a 9×9 box, re-centred once on the nearest pixel.
                    var (cx, cy) = (star.x, star.y)
                    for _ in 0..<2 {
                        let bi = Int(cx.rounded()) - 1, bj = Int(cy.rounded()) - 1
                        var s = 0.0, sx = 0.0, sy = 0.0
                        for j in (bj - 4)...(bj + 4) {
                            for i in (bi - 4)...(bi + 4) {
                                let v = Double(pixels[j * n + i]) - bg
                                s += v; sx += v * Double(i + 1); sy += v * Double(j + 1)
                            }
                        }
                        cx = sx / s; cy = sy / s
                    }
                    let d = hypot(cx - star.x, cy - star.y)
                    worst = max(worst, d)
                    #expect(abs(cx - star.x) < 0.1 && abs(cy - star.y) < 0.1,
                            "\(image)[\(ext)] star \(star.id) at (\(star.x), \(star.y)) measured (\(cx), \(cy))")
                    checked += 1
                }
            }
        }
        #expect(checked >= 15, "only \(checked) isolated bright stars checked (worst \(worst))")
    }

    /// Catalogue magnitudes from the CASU formula agree with the truth within 3σ (plus 0.02 mag),
    /// and RA/DEC (radians) within 0.1″ of the truth position at the night's epoch.
    @Test func catalogueAgreesWithTruth() throws {
        let dir = try Self.night.get()
        let truth = try Self.truthHits(dir)
        // Truth positions at epoch 2000 with proper motions.
        let src = try FITSFile.open(dir.appendingPathComponent("truth/sources.fits").path)
        try src.moveTo(hdu: 2)
        let ids: [Int64] = try src.readColumn("id")
        let ra: [Double] = try src.readColumn("ra"), dec: [Double] = try src.readColumn("dec")
        let pmra: [Double] = try src.readColumn("pmra"), pmdec: [Double] = try src.readColumn("pmdec")
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        var total = 0, magOK = 0, posOK = 0
        var offsets: [Double] = []
        for image in try Self.goodFiles(dir) where image.hasSuffix("_sf_st.fit") {
            let img = try FITSFile.open(dir.appendingPathComponent(image).path)
            let cat = try FITSFile.open(dir.appendingPathComponent(image.replacingOccurrences(of: ".fit", with: "_cat.fits")).path)
            let primary = try img.header()
            let expTime = try #require(primary.double("EXP_TIME"))
            let airmass = (try #require(primary.double("AMSTART")) + (try #require(primary.double("AMEND")))) / 2
            let mjd = try #require(primary.double("MJD-OBS"))
            let epoch = 2000 + (mjd - 51544.5) / 365.25
            for ext in 1...4 {
                try cat.moveTo(hdu: ext + 1)
                let h = try cat.header()
                let zp = h.double("MAGZPT")!, apcor3 = h.double("APCOR3")!, k = h.double("EXTINCT")!
                let n = h.int("DROWS")!
                let x: [Float] = try cat.readColumn("X_coordinate"), y: [Float] = try cat.readColumn("Y_coordinate")
                let f3: [Float] = try cat.readColumn("Aper_flux_3"), e3: [Float] = try cat.readColumn("Aper_flux_3_err")
                let flags: [Float] = try cat.readColumn("Error_bit_flag")
                let peak: [Float] = try cat.readColumn("Peak_height"), sky: [Float] = try cat.readColumn("Sky_level")
                let cra: [Float] = try cat.readColumn("RA"), cdec: [Float] = try cat.readColumn("DEC")
                for star in Self.isolatedStars(truth["\(image)#\(ext)"] ?? [], size: n, radius: 8) {
                    guard let m = x.indices.min(by: {
                        hypot(Double(x[$0]) - star.x, Double(y[$0]) - star.y) < hypot(Double(x[$1]) - star.x, Double(y[$1]) - star.y)
                    }), hypot(Double(x[m]) - star.x, Double(y[m]) - star.y) < 1 else { continue }
                    guard f3[m] > 10 * e3[m], flags[m] == 0, peak[m] + sky[m] < 30000 else { continue }
                    total += 1
                    let mag = zp - 2.5 * log10(Double(f3[m]) / expTime) - apcor3 - k * (airmass - 1)
                    let sigma = 1.0857 * Double(e3[m] / f3[m])
                    offsets.append(mag - star.mag)
                    if abs(mag - star.mag) < 3 * sigma + 0.02 { magOK += 1 }
                    let i = try #require(index[star.id])
                    let cosd = cos(dec[i] * .pi / 180)
                    let tra = ra[i] + pmra[i] * (epoch - 2000) / 3.6e6 / cosd
                    let tdec = dec[i] + pmdec[i] * (epoch - 2000) / 3.6e6
                    let dra = (Double(cra[m]) * 180 / .pi - tra) * cosd * 3600
                    let ddec = (Double(cdec[m]) * 180 / .pi - tdec) * 3600
                    if hypot(dra, ddec) < 0.1 { posOK += 1 }
                }
            }
        }
        #expect(total >= 40, "only \(total) matched stars")
        #expect(Double(magOK) >= 0.95 * Double(total), "\(magOK) of \(total) magnitudes within 3σ")
        #expect(Double(posOK) >= 0.95 * Double(total), "\(posOK) of \(total) positions within 0.1″")
        offsets.sort()
        #expect(abs(offsets[offsets.count / 2]) < 0.015, "median magnitude offset \(offsets[offsets.count / 2])")
    }

    /// The damaged files are damaged as recorded; the good files are byte-identical to a run with
    /// the same seed, no damage and one thread (so same seed → same bytes, whatever the thread
    /// timing); another seed gives other bytes.
    @Test func corruptFilesAndDeterminism() throws {
        let dir = try Self.night.get()
        let damaged = try Self.corruptFiles(dir)
        #expect(damaged.map(\.kind) == CorruptionKind.allCases.map(\.rawValue))
        for (file, kind) in damaged {
            let path = dir.appendingPathComponent(file).path
            switch CorruptionKind(rawValue: kind)! {
            case .truncatedImage:
                #expect(throws: (any Error).self) {
                    let f = try FITSFile.open(path)
                    for h in 2...5 {
                        try f.moveTo(hdu: h)
                        let _: [Int32] = try f.readPixels()
                    }
                }
            case .badHeader:
                #expect(throws: (any Error).self) { _ = try FITSFile.open(path) }
            case .missingWCS:
                let f = try FITSFile.open(path)
                try f.moveTo(hdu: 2)
                #expect(try f.readKey("CTYPE1") == nil)
                #expect(throws: (any Error).self) { _ = try f.wcs() }
            case .unknownProject:
                let f = try FITSFile.open(path)
                #expect(try f.readKey("PROJECT") == .string("U/UKIDSS/XYZ"))
            case .catalogueWithoutImage:
                #expect(file.hasSuffix("_cat.fits"))
                #expect(FileManager.default.fileExists(atPath: path))
                #expect(!FileManager.default.fileExists(atPath: path.replacingOccurrences(of: "_cat.fits", with: ".fit")))
            }
        }
        // Same seed without damage, on one thread instead of two: every good delivery file and
        // truth table is byte-identical.
        let clean = try Self.simulate(seed: 11, corrupt: 0, jobs: 1)
        let cleanFiles = try Self.goodFiles(clean)
        let damagedSet = Set(damaged.map(\.file))
        let good = try Self.goodFiles(dir).filter { f in
            // Companions of damaged frames exist only in the damaged run.
            !damagedSet.contains { $0.hasPrefix(String(f.prefix(27))) }
        }
        #expect(cleanFiles == good)
        for f in good {
            let a = try Data(contentsOf: dir.appendingPathComponent(f))
            let b = try Data(contentsOf: clean.appendingPathComponent(f))
            #expect(a == b, "\(f) differs between runs with the same seed")
        }
        // Another seed: different pixels.
        let other = try Self.simulate(seed: 12, corrupt: 0)
        let a = try Data(contentsOf: dir.appendingPathComponent("20051012_v1/w20051012_00001_sf_st.fit"))
        let b = try Data(contentsOf: other.appendingPathComponent("20051012_v1/w20051012_00001_sf_st.fit"))
        #expect(a != b)
    }
}

/// Removes the test directories when the test process exits.
enum Cleanup {
    nonisolated(unsafe) static var directories: [URL] = []
    static let lock = NSLock()
    nonisolated(unsafe) static var registered = false

    static func register(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        directories.append(url)
        if !registered {
            registered = true
            atexit {
                Cleanup.lock.lock()
                for d in Cleanup.directories { try? FileManager.default.removeItem(at: d) }
                Cleanup.lock.unlock()
            }
        }
    }
}
