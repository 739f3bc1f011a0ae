import Foundation
import Postgres
import Testing
import TestSupport
import SimulatorKit

/// Two LAS nights a year apart (Y J H K; J twice: slots y, j_1, j_2, h, k), four overlapping
/// pointings, one exposure each: stacks of two frames per band and field.
enum MergeNights {
    static let directory = SimulatedNights.make("wsa-merge-seed41-v1", seed: 41, size: 512, programmes: [.LAS],
                                                galaxyDensity: 0.5, pointings: 4, exposures: 1,
                                                nights: ["20051012", "20061013"])
}

/// A truth source of the LAS: position at epoch 2000 (degrees), proper motion (mas/yr), type,
/// magnitudes Y J H K.
struct MergeTruth {
    var id: String
    var ra: Double
    var dec: Double
    var pmra: Double
    var pmdec: Double
    var type: String
    var mag: [Double]

    /// Position at Julian epoch `t`.
    func position(at t: Double) -> (ra: Double, dec: Double) {
        (ra + pmra / 3.6e6 * (t - 2000) / cos(dec * .pi / 180), dec + pmdec / 3.6e6 * (t - 2000))
    }

    static func read(_ simulation: URL) throws -> [MergeTruth] {
        let text = try String(contentsOf: simulation.appendingPathComponent("truth/sources.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        func column(_ name: String) -> Int { header.firstIndex(of: name)! }
        let (id, p, t, ra, dec, pmra, pmdec) = (column("id"), column("programme"), column("type"), column("ra"), column("dec"),
                                                 column("pmra"), column("pmdec"))
        let bands = ["Y", "J", "H", "K"].map { column("mag_\($0)") }
        return lines.dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f[p] == "LAS" else { return nil }
            return MergeTruth(id: f[id], ra: Double(f[ra])!, dec: Double(f[dec])!, pmra: Double(f[pmra]) ?? 0,
                              pmdec: Double(f[pmdec]) ?? 0, type: f[t], mag: bands.map { Double(f[$0]) ?? 99 })
        }
    }
}

@Suite(.serialized, .enabled(if: TestEnvironment.hasDatabase))
struct MergeCurationTests {
    static let slots = ["y", "j_1", "j_2", "h", "k"]

    /// A current source: id, frame set, position, epoch, seaming flag, class and per-slot seqNum.
    struct Source {
        var sourceID: Int64
        var frameSetID: Int64
        var ra: Double
        var dec: Double
        var epoch: Double
        var priOrSec: Int64
        var mergedClass: Int16
        var seqNum: [Int32]
        var seamless: Bool { priOrSec == 0 || priOrSec == frameSetID }
    }

    func sources(_ h: CurationHarness) throws -> [Source] {
        try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT sourceID, frameSetID, ra, dec, epoch, priOrSec, mergedClass, \(Self.slots.map { "\($0)SeqNum" }.joined(separator: ", "))
            FROM lasSource
            """)).map { row in
            Source(sourceID: try row.decode(Int64.self, "sourceid"), frameSetID: try row.decode(Int64.self, "framesetid"),
                   ra: try row.decode(Double.self, "ra"), dec: try row.decode(Double.self, "dec"),
                   epoch: try row.decode(Double.self, "epoch"), priOrSec: try row.decode(Int64.self, "priorsec"),
                   mergedClass: try row.decode(Int16.self, "mergedclass"),
                   seqNum: try Self.slots.map { try row.decode(Int32.self, "\($0)seqnum".lowercased()) })
        }
    }

    /// The detections of each slot frame of each current frame set: frameSetID → slot →
    /// (seqNum, ra, dec).
    func slotDetections(_ h: CurationHarness) throws -> [Int64: [[(seq: Int32, ra: Double, dec: Double)]]] {
        var result: [Int64: [[(seq: Int32, ra: Double, dec: Double)]]] = [:]
        for (index, slot) in Self.slots.enumerated() {
            for row in try h.admin.query(PostgresQuery(unsafeSQL: """
                SELECT m.frameSetID, d.seqNum, d.ra, d.dec FROM lasMergeLog m
                JOIN lasDetection d ON d.multiframeID = m.\(slot)mfID AND d.extNum = m.\(slot)eNum
                WHERE m.deprecated = 0
                """)) {
                let fs = try row.decode(Int64.self, "framesetid")
                result[fs, default: Array(repeating: [], count: Self.slots.count)][index]
                    .append((try row.decode(Int32.self, "seqnum"), try row.decode(Double.self, "ra"), try row.decode(Double.self, "dec")))
            }
        }
        return result
    }

    /// Bright (every band brighter than `limit`), isolated (no other truth source brighter than
    /// J = 21 within 3″: CASU's extractor blends such pairs), slow (< 200 mas/yr: faster stars
    /// move more than half the pairing radius between the two epochs) truth sources of `type`.
    func brightIsolated(_ truth: [MergeTruth], type: String, limit: Double) -> [MergeTruth] {
        truth.filter { t in
            guard t.type == type, t.mag.allSatisfy({ $0 < limit }), hypot(t.pmra, t.pmdec) < 200 else { return false }
            return !truth.contains { o in
                o.id != t.id && o.mag[1] < 21 && ProductCurationTests.separation(t.ra, t.dec, o.ra, o.dec) < 3
            }
        }
    }

    @Test func mergedCatalogueAgreesWithTheTruth() async throws {
        let truth = try MergeTruth.read(MergeNights.directory)
        try await CurationHarness.with(night: MergeNights.directory) { h in
            let curate = try await h.run("curate")
            #expect(curate.status == 0, "curate: \(curate.stdout) \(curate.stderr)")
            #expect(curate.stdout.contains("cu6"))
            #expect(curate.stdout.contains("cu8"))

            // CU6: unit vectors of unit length everywhere; nothing left at the default.
            for (table, ra, dec) in [("lasDetection", "ra", "dec"), ("lasSource", "ra", "dec"),
                                     ("lasMergeLog", "ra", "dec"), ("CurrentAstrometry", "centralRa", "centralDec")] {
                let worst = try h.admin.queryValue(Double.self, PostgresQuery(unsafeSQL: """
                    SELECT coalesce(max(abs(cx * cx + cy * cy + cz * cz - 1)), 1) FROM \(table) WHERE \(ra) > -1e8
                    """))
                #expect(worst < 1e-12, "\(table): |c|² − 1 up to \(worst)")
                #expect(try h.count("SELECT count(*) FROM \(table) WHERE \(ra) > -1e8 AND (cx < -2 OR l < -2 OR b < -100)") == 0,
                        "\(table) has rows without spatial attributes")
                _ = dec
            }
            // l, b within 1 mas of astropy's FK5 J2000 → Galactic.
            let sample = try h.admin.query(PostgresQuery(unsafeSQL: """
                SELECT ra, dec, l, b FROM lasDetection ORDER BY multiframeID, extNum, seqNum LIMIT 300
                """)).map { (try $0.decode(Double.self, "ra"), try $0.decode(Double.self, "dec"),
                             try $0.decode(Double.self, "l"), try $0.decode(Double.self, "b")) }
            #expect(sample.count == 300)
            let astropy = try runPython("""
                import sys
                from astropy.coordinates import SkyCoord
                import astropy.units as u
                rows = [tuple(map(float, x.split(','))) for x in sys.argv[1:]]
                c = SkyCoord([r[0] for r in rows] * u.deg, [r[1] for r in rows] * u.deg, frame='fk5', equinox='J2000').galactic
                worst = 0.0
                for r, l, b in zip(rows, c.l.deg, c.b.deg):
                    dl = (r[2] - l + 180) % 360 - 180
                    worst = max(worst, abs(dl) * 3.6e6, abs(r[3] - b) * 3.6e6)
                print(worst)
                """, sample.map { "\($0.0),\($0.1),\($0.2),\($0.3)" })
            let worstMas = try #require(Double(astropy.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(worstMas < 1, "l, b differ from astropy's by up to \(worstMas) mas")

            // Prescription: five slots per frame set; frame sets of the whole sky.
            let frameSets = try h.count("SELECT count(*) FROM lasMergeLog WHERE deprecated = 0")
            #expect(frameSets == 16, "4 pointings × 4 detectors, got \(frameSets)")
            #expect(try h.count("SELECT count(*) FROM lasMergeLog WHERE deprecated = 0 AND (ymfID < 0 OR j_1mfID < 0 OR j_2mfID < 0 OR hmfID < 0 OR kmfID < 0)") == 0)
            #expect(try h.count("""
                SELECT count(*) FROM lasMergeLog l JOIN Multiframe m ON m.multiframeID = l.ymfID
                WHERE l.deprecated = 0 AND m.frameType <> 'stack'
                """) == 0, "bands observed once take the deep stack")
            #expect(try h.count("""
                SELECT count(*) FROM lasMergeLog l JOIN Multiframe a ON a.multiframeID = l.j_1mfID
                JOIN Multiframe b ON b.multiframeID = l.j_2mfID
                WHERE l.deprecated = 0 AND NOT (a.frameType = 'normal' AND b.frameType = 'normal' AND b.mjdObs - a.mjdObs > 300)
                """) == 0, "j_1 and j_2 are single frames of the two epochs")

            // No detection feeds two sources.
            for slot in Self.slots {
                #expect(try h.count("""
                    SELECT count(*) FROM (SELECT m.\(slot)mfID, m.\(slot)eNum, s.\(slot)SeqNum FROM lasSource s
                    JOIN lasMergeLog m USING (frameSetID) WHERE s.\(slot)SeqNum <> -99999999
                    GROUP BY 1, 2, 3 HAVING count(*) > 1) x
                    """) == 0, "a \(slot) detection feeds two sources")
            }
            // Colours are differences of the magnitudes; missing bands carry the defaults.
            #expect(try h.count("""
                SELECT count(*) FROM lasSource WHERE
                   (yAperMag3 > -1e8 AND j_1AperMag3 > -1e8 AND abs(ymj_1Pnt - (yAperMag3 - j_1AperMag3)) > 1e-5)
                OR (j_1AperMag3 > -1e8 AND hAperMag3 > -1e8 AND abs(j_1mhPnt - (j_1AperMag3 - hAperMag3)) > 1e-5)
                OR (hAperMag3 > -1e8 AND kAperMag3 > -1e8 AND abs(hmkPnt - (hAperMag3 - kAperMag3)) > 1e-5)
                OR ((yAperMag3 < -1e8 OR j_1AperMag3 < -1e8) AND ymj_1Pnt <> -0.9999995e9::real)
                OR (hSeqNum = -99999999 AND (hAperMag3 <> -0.9999995e9::real OR hClass <> -9999 OR hXi <> -0.9999995e9::real))
                """) == 0)
            #expect(try h.count("SELECT count(*) FROM lasSource WHERE hSeqNum = -99999999") > 0, "some sources lack H")

            // Against the truth.
            let all = try sources(h)
            let seamless = all.filter(\.seamless)
            #expect(all.count > seamless.count, "the overlaps give duplicates")
            let detections = try slotDetections(h)
            func near(_ t: MergeTruth, _ list: [Source], within radius: Double) -> [Source] {
                list.filter {
                    let p = t.position(at: $0.epoch)
                    return ProductCurationTests.separation(p.ra, p.dec, $0.ra, $0.dec) < radius
                }
            }
            let stars = brightIsolated(truth, type: "star", limit: 19)
            var once = 0, correct = 0, stellar = 0, checked = 0
            var failures: [String] = []
            for star in stars {
                let found = near(star, seamless, within: 0.5)
                guard near(star, all, within: 0.5).count > 0 else { continue }  // outside the covered sky
                checked += 1
                if found.count == 1 { once += 1 } else { failures.append("\(star.id): \(found.count) seamless") }
                guard let source = found.first else { continue }
                if source.mergedClass == -1 || source.mergedClass == -2 { stellar += 1 }
                // Its detection in each slot frame (nearest within 0.5″) is the one the source holds.
                let slots = detections[source.frameSetID] ?? []
                var right = true
                for (index, list) in slots.enumerated() {
                    let p = star.position(at: source.epoch)
                    let best = list.map { ($0.seq, ProductCurationTests.separation(p.ra, p.dec, $0.ra, $0.dec)) }.min { $0.1 < $1.1 }
                    if let best, best.1 < 0.5, source.seqNum[index] != best.0 { right = false }
                }
                if right { correct += 1 } else { failures.append("\(star.id): detections in more than one source") }
            }
            print("merge: \(checked) bright isolated stars: \(once) once, \(correct) merged correctly, \(stellar) stellar")
            #expect(checked > 60, "only \(checked) bright isolated stars")
            #expect(once == checked, "stars seen once: \(once) of \(checked): \(failures.prefix(5))")
            #expect(Double(correct) >= 0.99 * Double(checked), "merged correctly: \(correct) of \(checked): \(failures.prefix(5))")
            #expect(Double(stellar) >= 0.95 * Double(checked), "stellar: \(stellar) of \(checked)")

            let galaxies = brightIsolated(truth, type: "galaxy", limit: 19).compactMap { near($0, seamless, within: 1).first }
            let extended = galaxies.filter { $0.mergedClass == 1 || $0.mergedClass == -3 }.count
            #expect(galaxies.count > 10, "only \(galaxies.count) bright galaxies")
            #expect(Double(extended) >= 0.9 * Double(galaxies.count), "non-stellar: \(extended) of \(galaxies.count)")

            // CU9: every frame set list-processed; a band without a detection now has a forced
            // measurement, which recovers the truth flux of faint stars the single frames missed.
            #expect(curate.stdout.contains("cu9"))
            #expect(try h.count("SELECT count(*) FROM curation.cu9_due(101)") == 0)
            #expect(try h.count("SELECT count(*) FROM lasSourceRemeasurement") == all.count)
            #expect(try h.count("SELECT count(*) FROM lasMergeLog WHERE deprecated = 0 AND (listProcY = 0 OR listProcJ_1 = 0 OR listProcJ_2 = 0 OR listProcH = 0 OR listProcK = 0)") == 0)
            #expect(try h.count("""
                SELECT count(*) FROM lasSource s JOIN lasSourceRemeasurement r USING (sourceID)
                WHERE s.j_1SeqNum = -99999999 AND r.j_1Forced = 1 AND r.j_1Mag > -1e8
                """) > 20, "sources without a J_1 detection have a forced J_1 magnitude")
            #expect(try h.count("""
                SELECT count(*) FROM lasSource s JOIN lasSourceRemeasurement r USING (sourceID)
                WHERE (s.kSeqNum <> -99999999 AND (r.kForced <> 0 OR r.kMag <> s.kAperMag3))
                   OR (s.kSeqNum = -99999999 AND r.kForced <> 1)
                """) == 0, "a detected band keeps its detection's magnitude; a missing one is measured")
            let forced = try h.admin.query(PostgresQuery(unsafeSQL: """
                SELECT l.ra, l.dec, s.epoch, l.filterID, l.aperFlux3, l.aperFlux3Err,
                       max(l.aperMag3 + 2.5 * log(greatest(l.aperFlux3, 1e-30)::numeric)) FILTER (WHERE l.aperMag3 > -1e8 AND l.aperFlux3 > 0)
                           OVER (PARTITION BY l.multiframeID, l.extNum) AS zp
                FROM lasListRemeasurement l JOIN lasSource s USING (sourceID) JOIN Multiframe m USING (multiframeID)
                WHERE m.frameType = 'normal' AND l.errBits & 1 = 0 AND l.aperFlux3Err > 0
                """))
            var pulls: [Double] = []
            for row in forced {
                let (ra, dec, epoch) = (try row.decode(Double.self, "ra"), try row.decode(Double.self, "dec"), try row.decode(Double.self, "epoch"))
                guard let zp = try row.decode(Double?.self, "zp") else { continue }
                let band = Int(try row.decode(Int16.self, "filterid")) - 2
                let near = truth.filter {
                    let p = $0.position(at: epoch)
                    return abs(p.dec - dec) < 3.0 / 3600 && ProductCurationTests.separation(p.ra, p.dec, ra, dec) < 3
                }
                guard near.count == 1, let star = near.first, star.type == "star", (0..<4).contains(band) else { continue }
                let p = star.position(at: epoch)
                guard ProductCurationTests.separation(p.ra, p.dec, ra, dec) < 0.5 else { continue }
                let expected = pow(10, -0.4 * (star.mag[band] - zp))
                pulls.append((Double(try row.decode(Float.self, "aperflux3")) - expected) / Double(try row.decode(Float.self, "aperflux3err")))
            }
            let within = pulls.filter { abs($0) < 3 }.count
            print("cu9: \(pulls.count) faint isolated stars measured on single frames, \(within) within 3σ of the truth flux")
            #expect(pulls.count > 30, "only \(pulls.count) forced measurements of faint isolated stars")
            #expect(Double(within) >= 0.95 * Double(pulls.count), "within 3σ: \(within) of \(pulls.count)")

            // Nothing new: nothing changes.
            let before = try mergeDigest(h)
            let again = try await h.run("cu8")
            #expect(again.status == 0)
            #expect(again.stdout.contains("merged 0 frame set(s)") || again.stdout.contains("nothing"),
                    "\(again.stdout)")
            #expect(try mergeDigest(h) == before)
        }
    }

    /// A second night that observes one pointing again: only that pointing's frame sets are
    /// merged again (new versions, the old ones deprecated), the others stay as they were.
    @Test func aSecondNightRemergesOnlyTheFrameSetsItTouches() async throws {
        try await CurationHarness.with(night: MergeNights.directory, only: ["20051012_v1"]) { h in
            let first = try await h.run("curate")
            #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
            let before = try frameSets(h)
            #expect(before.count == 16)
            #expect(try h.count("SELECT count(*) FROM lasMergeLog WHERE j_2mfID > 0") == 0, "one epoch so far")

            // Night 2, pointing 1 only: its four frames (Y J H K), their confidence maps and catalogues.
            try deliverFirstPointing("20061013_v1", into: h)
            // The ingest and products, then the periodic tasks through CU15, in the prescribed order.
            for program in ["cu1", "cu2", "cu3", "cu4", "cu13", "cu14"] {
                let run = try await h.run(program)
                try #require(run.status == 0, "\(program): \(run.stderr)")
            }
            let plan = try await h.run("cu15", ["--dry-run"])
            #expect(plan.status == 0)
            #expect(plan.stdout.contains("would run cu6 --programme LAS"), "\(plan.stdout)")
            let second = try await h.run("cu15")
            #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
            let order = ["cu6 --programme LAS", "cu8 --programme LAS", "cu9 --programme LAS"].compactMap { second.stdout.range(of: $0)?.lowerBound }
            #expect(order.count == 3 && order == order.sorted(), "cu15 runs CU6, CU8, CU9 in order: \(second.stdout)")
            let idle = try await h.run("cu15")
            #expect(idle.status == 0)
            #expect(idle.stdout.contains("nothing was due"), "\(idle.stdout)")
            let after = try frameSets(h)
            #expect(after.count == 16)
            let kept = Set(before.keys).intersection(after.keys)
            #expect(kept.count == 12, "the frame sets of the three other pointings stay: \(kept.count)")
            for id in kept { #expect(before[id] == after[id]) }
            let replaced = Set(before.keys).subtracting(after.keys)
            #expect(replaced.count == 4)
            #expect(try h.count("SELECT count(*) FROM lasMergeLog WHERE deprecated = 1") == 4)
            #expect(try h.count("SELECT count(*) FROM lasMergeLog WHERE deprecated = 0 AND j_2mfID > 0 AND newJ_2frame = 1") == 4)
            #expect(try h.count("""
                SELECT count(*) FROM lasSource s JOIN lasMergeLog m USING (frameSetID) WHERE m.deprecated = 1
                """) == 0, "the sources of replaced versions are gone")
            // Seaming still picks every object once across old and new frame sets.
            #expect(try h.count("""
                SELECT count(*) FROM lasSource a JOIN lasSource b ON a.sourceID < b.sourceID
                AND a.frameSetID <> b.frameSetID AND q3c_join(a.ra, a.dec, b.ra, b.dec, 0.3 / 3600)
                WHERE (a.priOrSec = 0 OR a.priOrSec = a.frameSetID) AND (b.priOrSec = 0 OR b.priOrSec = b.frameSetID)
                """) == 0, "two seamless copies of one object")

            let digest = try mergeDigest(h)
            let again = try await h.run("cu8")
            #expect(again.status == 0)
            #expect(try mergeDigest(h) == digest, "a run with nothing new changes nothing")
        }
    }

    /// SIGKILL of cu8 between and inside its steps: never a row of a run that did not succeed;
    /// `curate` resumes it, and the catalogue equals one merged in one go from the same frames.
    @Test func aKilledMergeLeavesNothingAndCurateResumesIt() async throws {
        try await CurationHarness.with(night: MergeNights.directory, leaseSeconds: 3) { h in
            for program in ["cu1", "cu2", "cu3", "cu4", "cu13", "cu14", "cu6"] {
                let run = try await h.run(program)
                try #require(run.status == 0, "\(program): \(run.stderr)")
            }
            var kills = 0
            for delay in [0.3, 0.6, 0.9] {
                guard try h.killAfter(delay, "cu8", ["--frame-sets-per-step", "1"]) else { break }
                kills += 1
                let deadline = Date().addingTimeInterval(60)
                while try h.count("SELECT count(*) FROM ProgrammeCurationHistory WHERE status = 'started'") > 0, Date() < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                for table in ["lasSource", "lasMergeLog"] {
                    #expect(try h.count("""
                        SELECT count(*) FROM \(table) x JOIN ProgrammeCurationHistory r USING (cuEventID) WHERE r.status <> 'succeeded'
                        """) == 0, "\(table) holds rows of a run that did not succeed")
                }
            }
            #expect(kills > 0, "cu8 had ended before the first kill")
            let resumed = try await h.run("curate")
            #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
            #expect(try h.count("SELECT count(*) FROM curation.cu8_plan(101)") == 0)
            let state = try contentDigest(h)
            // The same frames merged in one go, in a transaction rolled back afterwards.
            _ = try h.admin.execute(unsafeSQL: "BEGIN")
            _ = try h.admin.execute(unsafeSQL: "DELETE FROM lasSource; DELETE FROM lasMergeLog")
            _ = try h.admin.query(PostgresQuery(unsafeSQL: "SELECT curation.cu8_merge(101, 1, 100000, 'test')"))
            let clean = try contentDigest(h)
            _ = try h.admin.execute(unsafeSQL: "ROLLBACK")
            #expect(state == clean, "the resumed merge differs from a clean one")
        }
    }

    /// A digest of the merged catalogue's content, without ids: positions, the detections of
    /// each slot, and whether each source is in the seamless selection.
    func contentDigest(_ h: CurationHarness) throws -> String {
        let slots = Self.slots.map { "\($0)SeqNum" }.joined(separator: " || ',' || ")
        return try h.admin.queryValue(String.self, PostgresQuery(unsafeSQL: """
            SELECT count(*) || ':' || md5(string_agg(x, ';' ORDER BY x)) FROM (
                SELECT round(s.ra::numeric, 7) || ',' || round(s.dec::numeric, 7) || ',' || \(slots) || ','
                       || (s.priOrSec = 0 OR s.priOrSec = s.frameSetID) || ',' || m.ymfID || ',' || m.kmfID AS x
                FROM lasSource s JOIN lasMergeLog m USING (frameSetID) WHERE m.deprecated = 0) q
            """))
    }

    /// Current frame sets: frameSetID → cuEventID and slot frames.
    func frameSets(_ h: CurationHarness) throws -> [Int64: String] {
        var result: [Int64: String] = [:]
        for row in try h.admin.query(PostgresQuery(unsafeSQL: """
            SELECT frameSetID, cuEventID || ':' || ymfID || ',' || j_1mfID || ',' || j_2mfID || ',' || hmfID || ',' || kmfID AS v
            FROM lasMergeLog WHERE deprecated = 0
            """)) {
            result[try row.decode(Int64.self, "framesetid")] = try row.decode(String.self, "v")
        }
        return result
    }

    /// A digest of the merged catalogue (ids included: a run that changes nothing keeps them).
    func mergeDigest(_ h: CurationHarness) throws -> String {
        try h.admin.queryValue(String.self, PostgresQuery(unsafeSQL: """
            SELECT count(*) || ':' || coalesce(md5(string_agg(sourceID || ',' || frameSetID || ',' || priOrSec || ',' || ra || ',' || dec
                   || ',' || cuEventID, ';' ORDER BY sourceID)), '')
                   || '/' || (SELECT count(*) || ':' || coalesce(md5(string_agg(frameSetID || ',' || deprecated || ',' || cuEventID, ';'
                   ORDER BY frameSetID)), '') FROM lasMergeLog)
            FROM lasSource
            """))
    }

    /// Delivers the first pointing of `night` of the simulation (frames come programme →
    /// pointing → passband: the first four images are pointing 1's Y J H K), with a COMPLETE
    /// that lists just those files.
    func deliverFirstPointing(_ night: String, into h: CurationHarness) throws {
        let source = MergeNights.directory.appendingPathComponent(night)
        let target = h.delivery.appendingPathComponent(night)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let images = try FileManager.default.contentsOfDirectory(atPath: source.path)
            .filter { $0.hasSuffix("_sf_st.fit") }.sorted().prefix(4)
        var lines = ["# part of \(night): pointing 1"]
        for image in images {
            let stem = image.dropLast(".fit".count)
            for name in [image, "\(stem)_conf.fit", "\(stem)_cat.fits"] {
                try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: target.appendingPathComponent(name))
                let size = try FileManager.default.attributesOfItem(atPath: target.appendingPathComponent(name).path)[.size] as! Int
                lines.append("\(name) \(size)")
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: target.appendingPathComponent("COMPLETE"), atomically: true, encoding: .utf8)
    }
}
