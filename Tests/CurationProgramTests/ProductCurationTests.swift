import FITS
import Foundation
import Postgres
import Testing
import TestSupport
import WrapperCore
import Drivers
import SimulatorKit
import AppDriver
#if canImport(Glibc)
import Glibc
#endif

/// Two nights of GPS (J, H, K, H2) and DXS (J, K), two exposures of one pointing each night.
enum ProductNights {
    static let directory = SimulatedNights.make("wsa-products-seed33-v1", seed: 33, size: 256, programmes: [.GPS, .DXS],
                                                galaxyDensity: 0.5, exposures: 2, nights: ["20051012", "20051013"])
}

/// A truth source: position (degrees) and magnitudes by passband.
struct TruthSource {
    var ra: Double
    var dec: Double
    var type: String
    var mag: [String: Double]
    /// Proper motion, mas/yr (total).
    var pm: Double

    static func read(_ simulation: URL, programme: String) throws -> [TruthSource] {
        let text = try String(contentsOf: simulation.appendingPathComponent("truth/sources.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        func column(_ name: String) -> Int { header.firstIndex(of: name)! }
        let (p, t, ra, dec) = (column("programme"), column("type"), column("ra"), column("dec"))
        let (pmra, pmdec) = (column("pmra"), column("pmdec"))
        let bands = ["J", "H", "K", "H2"].map { ($0, column("mag_\($0)")) }
        return lines.dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f[p] == programme else { return nil }
            var mag: [String: Double] = [:]
            for (band, i) in bands { mag[band] = Double(f[i]) }
            return TruthSource(ra: Double(f[ra])!, dec: Double(f[dec])!, type: f[t], mag: mag,
                               pm: hypot(Double(f[pmra]) ?? 0, Double(f[pmdec]) ?? 0))
        }
    }
}

/// A detection row: position, aperMag3 and its error.
struct DetectionRow {
    var ra: Double
    var dec: Double
    var mag: Double
    var err: Double
}

@Suite(.serialized, .enabled(if: TestEnvironment.hasDatabase))
struct ProductCurationTests {
    static func separation(_ ra1: Double, _ dec1: Double, _ ra2: Double, _ dec2: Double) -> Double {
        let r = Double.pi / 180
        let a = pow(sin((dec2 - dec1) * r / 2), 2) + cos(dec1 * r) * cos(dec2 * r) * pow(sin((ra2 - ra1) * r / 2), 2)
        return 2 * asin(min(1, sqrt(a))) / r * 3600
    }

    func detections(_ h: CurationHarness, table: String, multiframeID: Int64, extNum: Int) throws -> [DetectionRow] {
        try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT ra, dec, aperMag3, aperMag3Err FROM \(table)
            WHERE multiframeID = \(multiframeID) AND extNum = \(extNum) AND aperMag3 > -1e8 AND aperMag3Err > 0
            """)).map {
            DetectionRow(ra: try $0.decode(Double.self, "ra"), dec: try $0.decode(Double.self, "dec"),
                         mag: Double(try $0.decode(Float.self, "apermag3")), err: Double(try $0.decode(Float.self, "apermag3err")))
        }
    }

    /// Truth stars inside the box (shrunk by 5″) of an extension's footprint.
    func starsInside(_ h: CurationHarness, _ truth: [TruthSource], multiframeID: Int64, extNum: Int, band: String) throws
        -> [TruthSource]
    {
        let row = try #require(try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT minRa, maxRa, minDec, maxDec FROM CurrentAstrometry WHERE multiframeID = \(multiframeID) AND extNum = \(extNum)
            """)).first)
        let margin = 5.0 / 3600
        let (r0, r1) = (try row.decode(Double.self, "minra") + margin, try row.decode(Double.self, "maxra") - margin)
        let (d0, d1) = (try row.decode(Double.self, "mindec") + margin, try row.decode(Double.self, "maxdec") - margin)
        return truth.filter { $0.type == "star" && $0.ra > r0 && $0.ra < r1 && $0.dec > d0 && $0.dec < d1 && $0.mag[band] != nil }
    }

    /// The nearest detection within `radius` arcseconds of each truth star.
    func match(_ stars: [TruthSource], _ rows: [DetectionRow], radius: Double) -> [(TruthSource, DetectionRow, Double)] {
        stars.compactMap { star in
            let best = rows.map { ($0, Self.separation(star.ra, star.dec, $0.ra, $0.dec)) }.min { $0.1 < $1.1 }
            guard let best, best.1 < radius else { return nil }
            return (star, best.0, best.1)
        }
    }

    func products(_ h: CurationHarness, _ frameType: String, current: Bool = true) throws
        -> [(id: Int64, file: String, programme: String, filter: String, inputs: Int, version: Int32)]
    {
        try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT m.multiframeID, m.fileName, p.name, f.shortName, m.version,
                   (SELECT count(*) FROM Provenance v WHERE v.combiframeID = m.multiframeID)::integer AS inputs
            FROM Multiframe m JOIN Programme p USING (programmeID) JOIN Filter f USING (filterID)
            WHERE m.frameType = '\(frameType)' AND (m.deprecated = 0) = \(current)
            ORDER BY p.name, f.shortName, m.fileName
            """)).map {
            (try $0.decode(Int64.self, "multiframeid"), try $0.decode(String.self, "filename"), try $0.decode(String.self, "name"),
             try $0.decode(String.self, "shortname"), Int(try $0.decode(Int32.self, "inputs")), try $0.decode(Int32.self, "version"))
        }
    }

    /// The input frames of a product.
    func inputFrames(_ h: CurationHarness, _ product: Int64) throws -> [StackInput] {
        try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT m.fileName, c.fileName AS conf FROM Provenance v JOIN Multiframe m USING (multiframeID)
            JOIN Multiframe c ON c.multiframeID = m.confID WHERE v.combiframeID = \(product) ORDER BY v.inputOrder
            """)).map { try StackInput(image: URL(fileURLWithPath: try $0.decode(String.self, "filename")),
                                       confidence: URL(fileURLWithPath: try $0.decode(String.self, "conf"))) }
    }

    /// Background noise per pixel of each image extension of each (image, confidence) pair:
    /// 1.4826 × MAD of the differences of horizontally neighbouring 4×4-block sums at full depth
    /// (confidence 70…130), / √2 / 4.
    func blockNoise(_ files: [(String, String)]) throws -> [[Double]] {
        let output = try runPython("""
            import sys
            import numpy as np
            from astropy.io import fits
            for arg in sys.argv[1:]:
                image, conf = arg.split('=')
                out = []
                with fits.open(image) as s, fits.open(conf) as c:
                    for k in range(1, len(s)):
                        d, w, n = s[k].data.astype(float), c[k].data.astype(float), 4
                        h, wd = (d.shape[0] // n) * n, (d.shape[1] // n) * n
                        sums = d[:h, :wd].reshape(h // n, n, wd // n, n).sum(axis=(1, 3))
                        full = ((w[:h, :wd] >= 70) & (w[:h, :wd] <= 130)).reshape(h // n, n, wd // n, n).all(axis=(1, 3))
                        diff = (sums[:, 1:] - sums[:, :-1]) / np.sqrt(2)
                        diff = diff[full[:, 1:] & full[:, :-1]]
                        out.append(1.4826 * np.median(np.abs(diff - np.median(diff))) / n)
                print(' '.join(str(x) for x in out))
            """, files.map { "\($0.0)=\($0.1)" })
        return output.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
    }

    /// Every product file (and its confidence map) passes fitsverify and opens in astropy.
    func verifyFiles(_ h: CurationHarness) throws {
        let files = try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT m.fileName FROM Multiframe m WHERE m.frameType IN ('stack', 'mosaic', 'diff')
            UNION SELECT c.fileName FROM Multiframe m JOIN Multiframe c ON c.multiframeID = m.confID
            WHERE m.frameType IN ('stack', 'mosaic', 'diff')
            """)).map { try $0.decode(String.self, "filename") }
        #expect(!files.isEmpty)
        for file in files {
            #expect(FileManager.default.fileExists(atPath: file), "\(file) is in Multiframe but not on disk")
            let (clean, report) = try fitsverify(file)
            #expect(clean, "\(report)")
        }
        let opened = try runPython("""
            import sys
            from astropy.io import fits
            n = 0
            for path in sys.argv[1:]:
                with fits.open(path) as hdus:
                    for hdu in hdus[1:]:
                        assert hdu.data is not None and hdu.data.ndim == 2, path
                        n += 1
            print(n)
            """, files)
        #expect((Int(opened.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= files.count)
        let leftovers = FileManager.default.enumerator(atPath: h.archive.appendingPathComponent("products").path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".part") || $0.hasSuffix(".tmp") } ?? []
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    }

    @Test func curateStacksMosaicsExtractsAndAddsNewFrames() async throws {
        let simulation = ProductNights.directory
        try await CurationHarness.with(night: simulation, only: ["20051012_v1"]) { h in
            let first = try await h.run("curate")
            try #require(first.status == 0, "\(first.stderr)\n\(first.stdout)")

            // One stack per passband of each programme, a mosaic per DXS passband, 2 frames each.
            let stacks = try products(h, "stack")
            #expect(stacks.map { "\($0.programme) \($0.filter)" }.sorted()
                    == ["DXS J", "DXS K", "GPS H", "GPS H2", "GPS J", "GPS K"])
            #expect(stacks.allSatisfy { $0.inputs == 2 && $0.version == 1 })
            let mosaics = try products(h, "mosaic")
            #expect(mosaics.map { "\($0.programme) \($0.filter)" } == ["DXS J", "DXS K"])
            #expect(mosaics.allSatisfy { $0.inputs == 2 })
            try verifyFiles(h)

            // Headers say what went in.
            let k = try #require(stacks.first { $0.programme == "GPS" && $0.filter == "K" })
            let inputs = try h.admin.query(PostgresQuery(unsafeSQL: """
                SELECT min(m.mjdObs) AS mjd, sum(m.expTime)::float8 AS t FROM Provenance v JOIN Multiframe m USING (multiframeID)
                WHERE v.combiframeID = \(k.id)
                """)).first!
            let file = try FITSFile.open(k.file)
            let primary = try file.header()
            #expect(primary.int("NFRAMES") == 2)
            #expect(abs((primary.double("MJD-OBS") ?? 0) - (try inputs.decode(Double.self, "mjd"))) < 1e-6)
            try file.moveTo(hdu: 2)
            let ext = try file.header()
            #expect(ext.double("MAGZPT") != nil && ext.string("CTYPE1")?.hasPrefix("RA---TAN") == true)
            try file.close()

            // Noise: each stacked detector against single frames through the same SWarp path (a
            // stack of one), on neighbouring 4×4-block differences at full depth (resampling
            // correlates pixels but keeps block sums' variance; see StackDriverTests): σ_N is
            // 1/√N of the frames' σ (inverse-variance sum, as their skies differ), within 15 %.
            for stack in stacks where ["GPS K", "DXS J"].contains("\(stack.programme) \(stack.filter)") {
                let frames = try inputFrames(h, stack.id)
                let scratch = h.root.appendingPathComponent("singles-\(stack.id)")
                var files = [(stack.file, String(stack.file.dropLast(4)) + "_conf.fit")]
                for (i, frame) in frames.enumerated() {
                    let one = try await StackDriver.stack([frame], to: scratch.appendingPathComponent("s\(i).fit"),
                                                          confidence: scratch.appendingPathComponent("s\(i)_conf.fit"),
                                                          appDriver: AppDriver(), workDirectory: scratch)
                    files.append((one.image.path, one.confidence.path))
                }
                let noise = try blockNoise(files)  // [file][hdu]
                for k in noise[0].indices {
                    let optimum = 1 / noise.dropFirst().map { 1 / ($0[k] * $0[k]) }.reduce(0, +).squareRoot()
                    let ratio = noise[0][k] / optimum
                    #expect(abs(ratio - 1) < 0.15, "\(stack.programme) \(stack.filter) HDU \(k + 2): σ_stack/σ_expected = \(ratio) (\(noise))")
                }
            }

            // CU14: detections on every product, linked to it.
            let extracted = try h.count("""
                SELECT count(*) FROM CatalogueIngest c JOIN Multiframe m USING (multiframeID) WHERE m.frameType IN ('stack', 'mosaic')
                """)
            #expect(extracted == stacks.count + mosaics.count)
            #expect(try h.count("SELECT count(*) FROM gpsDetection d JOIN Multiframe m USING (multiframeID) WHERE m.frameType = 'stack'") > 100)
            #expect(try h.count("SELECT count(*) FROM dxsDetection d JOIN Multiframe m USING (multiframeID) WHERE m.frameType = 'mosaic'") > 0)

            // Positions and depth against the truth: GPS K, every detector.
            let truth = try TruthSource.read(simulation, programme: "GPS")
            let single = try h.admin.query(PostgresQuery(unsafeSQL: """
                SELECT v.multiframeID FROM Provenance v WHERE v.combiframeID = \(k.id) AND v.inputOrder = 0
                """)).first!.decode(Int64.self, "multiframeid")
            var stackFound = 0, singleFound = 0, faint = 0, faintGood = 0
            var offsets: [Double] = [], singleOffsets: [Double] = []
            for extNum in 2...5 {
                let stars = try starsInside(h, truth, multiframeID: single, extNum: extNum, band: "K")
                let stackRows = try detections(h, table: "gpsDetection", multiframeID: k.id, extNum: extNum)
                let singleRows = try detections(h, table: "gpsDetection", multiframeID: single, extNum: extNum)
                let stackMatches = match(stars, stackRows, radius: 0.5)
                stackFound += stackMatches.count
                singleFound += match(stars, singleRows, radius: 0.5).count
                // Positions of well-measured isolated stars: no other truth source within 3″ that is
                // less than 3 mag fainter, the detection's magnitude that of the star.
                func clean(_ m: (TruthSource, DetectionRow, Double)) -> Bool {
                    let mag = m.0.mag["K"]!
                    return m.1.err < 0.05 && abs(m.1.mag - mag) < 0.3 && m.0.pm < 20 && !truth.contains {
                        ($0.ra != m.0.ra || $0.dec != m.0.dec) && ($0.mag["K"] ?? 99) < mag + 3
                            && Self.separation($0.ra, $0.dec, m.0.ra, m.0.dec) < 3
                    }
                }
                offsets += stackMatches.filter(clean).map(\.2)
                singleOffsets += match(stars, singleRows, radius: 0.5).filter(clean).map(\.2)
                let limit = singleRows.map(\.mag).sorted().dropLast(singleRows.count / 10).last ?? 99
                for (star, row, _) in stackMatches where star.mag["K"]! > limit - 0.5 {
                    faint += 1
                    if abs(row.mag - star.mag["K"]!) < 3 * row.err + 0.02 { faintGood += 1 }
                }
            }
            #expect(stackFound > singleFound, "stack recovered \(stackFound) truth stars, a single frame \(singleFound)")
            offsets.sort()
            singleOffsets.sort()
            print("offsets stack \(offsets) single \(singleOffsets)")
            #expect(offsets.count > 20)
            let p90 = offsets[Int(Double(offsets.count) * 0.9)]
            // The inputs' own astrometry (CASU's WCS fit, ~0.05″ rms) bounds what a stack can do:
            // the stack's positions are within 0.1″ of the truth (median) and no worse than a
            // single frame's.
            let singleP90 = singleOffsets[Int(Double(singleOffsets.count) * 0.9)]
            #expect(offsets[offsets.count / 2] < 0.1 && p90 < max(0.1, singleP90 + 0.02), "90 % of bright isolated stars within \(p90)″ of truth (median \(offsets[offsets.count / 2])″)")
            #expect(faint > 10 && Double(faintGood) >= 0.85 * Double(faint),
                    "\(faintGood) of \(faint) faint stars within 3σ of truth")

            // CU5: an H2 − K difference image of each H2 frame, on its grid: the knots stand out
            // at their truth positions, the stars cancel.
            let diffs = try products(h, "diff")
            #expect(diffs.count == 2 && diffs.allSatisfy { $0.programme == "GPS" && $0.filter == "H2" && $0.inputs == 2 })
            let night = try TruthFrames(night: simulation)
            for diff in diffs {
                let h2 = try h.admin.query(PostgresQuery(unsafeSQL: """
                    SELECT string_agg(m.fileName || ':' || f.shortName, ',' ORDER BY v.inputOrder) AS inputs
                    FROM Provenance v JOIN Multiframe m USING (multiframeID) JOIN Filter f USING (filterID)
                    WHERE v.combiframeID = \(diff.id)
                    """)).first!.decode(String.self, "inputs").split(separator: ",").map(String.init)
                #expect(h2.count == 2 && h2[0].hasSuffix(":H2") && h2[1].hasSuffix(":K"), "\(h2)")
                let h2File = String(h2[0].dropLast(3))
                let key = URL(fileURLWithPath: h2File).pathComponents.suffix(2).joined(separator: "/")
                var sources: [String] = []
                for camera in 1...4 {
                    for i in night.on(key, camera: camera) where ["h2", "star"].contains(night.type[i]) {
                        sources.append("\(camera + 1) \(night.x[i]) \(night.y[i]) \(night.type[i]) \(night.mag[i])")
                    }
                }
                let verdict = try runPython("""
                    import sys
                    import numpy as np
                    from astropy.io import fits
                    diff, h2 = fits.open(sys.argv[1]), fits.open(sys.argv[2])
                    knots, stars = [], []
                    sources = [l.split() for l in sys.argv[3:]]
                    sources = [(int(h), float(x), float(y), k, float(m)) for h, x, y, k, m in sources]
                    for hdu, x, y, kind, mag in sources:
                        d = diff[hdu - 1].data.astype(float)
                        a = h2[hdu - 1].data.astype(float)
                        if not (16 < x < d.shape[1] - 16 and 16 < y < d.shape[0] - 16):
                            continue
                        # Isolated: nothing within 10 pixels less than 3 mag fainter.
                        if any(o[0] == hdu and (o[1], o[2]) != (x, y) and o[4] < mag + 3
                               and np.hypot(o[1] - x, o[2] - y) < 10 for o in sources):
                            continue
                        yy, xx = np.mgrid[0:d.shape[0], 0:d.shape[1]]
                        r = np.hypot(xx + 1 - x, yy + 1 - y)
                        inner, ring = r < 6, (r > 9) & (r < 15)
                        flux_d = (d[inner] - np.median(d[ring])).sum()
                        flux_a = (a[inner] - np.median(a[ring])).sum()
                        noise = 1.4826 * np.median(np.abs(d[ring] - np.median(d[ring]))) * np.sqrt(inner.sum())
                        if kind == 'h2':
                            knots.append(flux_d / noise)
                        elif 12 < mag < 15.5:
                            stars.append(abs(flux_d) / flux_a)
                    print(max(knots) if knots else 0, np.median(stars) if stars else 1, len(knots), len(stars))
                    """, [diff.file, h2File] + sources).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                #expect(verdict.count == 4 && verdict[0] > 5, "brightest knot S/N \(verdict) in \(diff.file)")
                #expect(verdict.count == 4 && verdict[1] < 0.03, "median star residual \(verdict) in \(diff.file)")
            }

            // Nothing is due after a run; a second curate changes nothing.
            let before = try h.state()
            let again = try await h.run("curate", ["--dry-run"])
            #expect(again.stdout.contains("0 run(s) due"), "\(again.stdout)")
            #expect(try h.state() == before)

            // Night 2 adds two frames to every stack: version 2 of 4 frames, version 1 deprecated.
            try h.deliver("20051013_v1", from: simulation)
            let second = try await h.run("curate")
            try #require(second.status == 0, "\(second.stderr)\n\(second.stdout)")
            let stacks2 = try products(h, "stack")
            #expect(stacks2.count == 6 && stacks2.allSatisfy { $0.inputs == 4 && $0.version == 2 })
            #expect(try products(h, "stack", current: false).count == 6)
            #expect(try h.count("SELECT count(*) FROM Multiframe WHERE frameType = 'stack' AND deprecated = 2") == 6)
            try verifyFiles(h)

            // Adding to the stack gives the product of stacking all four frames at once.
            let k2 = try #require(stacks2.first { $0.programme == "GPS" && $0.filter == "K" })
            let frames = try inputFrames(h, k2.id)
            let scratch = h.root.appendingPathComponent("allatonce")
            let once = try await StackDriver.stack(frames, to: scratch.appendingPathComponent("once.fit"),
                                                   confidence: scratch.appendingPathComponent("once_conf.fit"),
                                                   appDriver: AppDriver(), workDirectory: scratch)
            for hdu in 2...5 {
                let a = try FITSFile.open(k2.file), b = try FITSFile.open(once.image.path)
                try a.moveTo(hdu: hdu)
                try b.moveTo(hdu: hdu)
                let (pa, pb) = (try a.readPixels(as: Float.self), try b.readPixels(as: Float.self))
                #expect(pa == pb, "HDU \(hdu): the added-to stack differs from the all-at-once stack")
                try a.close()
                try b.close()
            }
        }
    }

    /// SIGKILL of cu13 at several moments: no product rows of a run that did not succeed, no
    /// final-named file without its rows; a re-run completes.
    @Test func killedStackingLeavesNoRowsAndNoFinalFile() async throws {
        try await CurationHarness.with(night: ProductNights.directory, only: ["20051012_v1"], leaseSeconds: 3) { h in
            for program in ["cu1", "cu2", "cu3"] {
                let run = try await h.run(program)
                try #require(run.status == 0, "\(program): \(run.stderr)")
            }
            // --dry-run says what it would make and makes nothing.
            let dry = try await h.run("cu13", ["--programme", "GPS", "--dry-run"])
            #expect(dry.status == 0 && dry.stdout.contains("would make the K stack") && dry.stdout.contains("cu13: would make 4 "),
                    "\(dry.stdout)")
            #expect(try h.count("SELECT count(*) FROM Multiframe WHERE frameType = 'stack'") == 0)
            #expect(!FileManager.default.fileExists(atPath: h.archive.appendingPathComponent("products").path))

            var kills = 0
            for delay in [0.4, 1.0, 1.8, 2.6] {
                guard try h.killAfter(delay, "cu13", ["--programme", "GPS"]) else { break }
                kills += 1
                for table in ["Multiframe", "MultiframeDetector", "CurrentAstrometry", "Provenance"] {
                    #expect(try h.count("""
                        SELECT count(*) FROM \(table) x JOIN ProgrammeCurationHistory r USING (cuEventID) WHERE r.status <> 'succeeded'
                        """) == 0, "\(table) has rows of a killed run")
                }
                let committed = Set(try h.admin.query(PostgresQuery(unsafeSQL: "SELECT fileName FROM Multiframe WHERE frameType IN ('stack', 'conf')"))
                    .map { try $0.decode(String.self, "filename") })
                let onDisk = (FileManager.default.enumerator(atPath: h.archive.appendingPathComponent("products").path)?
                    .compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".fit") }
                for file in onDisk {
                    let path = h.archive.appendingPathComponent("products").appendingPathComponent(file).path
                    #expect(committed.contains(path), "\(file) has its final name but no rows")
                }
            }
            #expect(kills > 0, "cu13 ended before the first kill")
            let rerun = try await h.run("cu13", ["--programme", "GPS"])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(try products(h, "stack").filter { $0.programme == "GPS" }.count == 4)
            try verifyFiles(h)
            // The re-run removed the scratch directories the killed runs left.
            let orphans = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
                .filter { $0.hasPrefix("wsa-cu13-") }
                .filter { entry in Int32(entry.dropFirst("wsa-cu13-".count).prefix { $0 != "-" }).map { kill($0, 0) != 0 } ?? false }
            #expect(orphans.isEmpty, "scratch directories of killed runs: \(orphans)")
        }
    }
}
