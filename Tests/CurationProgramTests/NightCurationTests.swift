import FITS
import Foundation
import Postgres
import Testing
import TestSupport
import TransactionFormat
#if canImport(Glibc)
import Glibc
#endif

/// A simulated night curated end to end by the real programs (`curate` running cu1–cu4 through
/// a real dbrpcserver on a real database), checked against the simulator's truth.
@Suite(.serialized, .enabled(if: TestEnvironment.hasDatabase))
struct NightCurationTests {
    @Test func aNightIsCuratedEndToEndAndAgainChangesNothing() async throws {
        let night = TestNight.directory
        try await CurationHarness.with(night: night) { h in
            let first = try await h.run("curate")
            try #require(first.status == 0, "curate failed: \(first.stderr)\n\(first.stdout)")
            #expect(first.stdout.contains("nothing left to do"), "\(first.stdout)")

            // Every good frame exactly once, with its programme, filter and checksum.
            let images = try TestNight.goodImages()
            for path in images {
                let file = TestNight.directory.appendingPathComponent(path)
                let header = try FITSFile.open(file.path)
                let filter = try header.requireString("FILTER")
                let project = try header.requireString("PROJECT")
                try header.close()
                let digest = SHA256.hash(try Data(contentsOf: file)).hexString
                let rows = try h.admin.query("""
                    SELECT m.checksum, f.shortName, p.dfsIDString FROM Multiframe m JOIN Filter f USING (filterID)
                    JOIN Programme p USING (programmeID) JOIN TransferLog t ON t.fileName = m.fileName
                    WHERE t.sourcePath = $1 AND m.frameType = 'normal'
                    """, [.text(path)])
                #expect(rows.count == 1, "\(path): \(rows.count) Multiframe rows")
                if let row = rows.first {
                    #expect(try row.decode(String.self, at: 0) == digest)
                    #expect(try row.decode(String.self, at: 1) == filter)
                    #expect(try row.decode(String.self, at: 2) == project)
                }
            }
            #expect(try h.count("SELECT count(*) FROM Multiframe WHERE frameType = 'normal'") == images.count)
            #expect(try h.count("SELECT count(*) FROM Multiframe WHERE frameType = 'normal' AND confID < 0") == 0)
            #expect(try h.count("SELECT count(*) FROM MultiframeDetector d JOIN Multiframe m USING (multiframeID) WHERE m.frameType = 'normal' AND d.compFile = 'NONE'") == 0)
            #expect(try h.count("SELECT count(*) FROM CatalogueIngest") == images.count)

            // Each damaged file quarantined with its reason, and moved aside.
            let expected = ["truncated_image": "(?i)(truncat|end of file|read|EOF|HDU)", "bad_header": "(?i)(FITS|header|read)",
                            "missing_wcs": "WCS", "unknown_project": "XYZ", "catalogue_without_image": "without its image"]
            for (path, kind) in try TestNight.corrupt() {
                let rows = try h.admin.query("SELECT reason, movedTo FROM Quarantine WHERE sourcePath = $1", [.text(path)])
                #expect(rows.count == 1, "\(kind) \(path): \(rows.count) Quarantine rows")
                guard let row = rows.first else { continue }
                let reason = try row.decode(String.self, at: 0), movedTo = try row.decode(String.self, at: 1)
                #expect(reason.range(of: expected[kind] ?? "^$", options: .regularExpression) != nil, "\(kind): \(reason)")
                #expect(FileManager.default.fileExists(atPath: movedTo), "\(kind): \(movedTo) missing")
                #expect(movedTo.hasPrefix(h.quarantine.path))
            }

            try checkDetectionsAgainstTruth(h)
            try checkJPEGs(h)

            // Again: nothing is due, nothing changes.
            let before = try h.state()
            let again = try await h.run("curate")
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("ran 0 program(s)"), "\(again.stdout)")
            let cu1 = try await h.run("cu1")
            #expect(cu1.status == 0 && cu1.stdout.contains("transferred 0 file(s)"), "\(cu1.stdout) \(cu1.stderr)")
            #expect(try h.state() == before)

            // CASU reprocesses one frame and delivers it as night version 2: a new version, the
            // old one deprecated everywhere, the rest untouched.
            let image = images[0]
            let name = String(image.split(separator: "/").last!)
            let v2 = h.delivery.appendingPathComponent("20051012_v2")
            try FileManager.default.createDirectory(at: v2, withIntermediateDirectories: true)
            let changed = v2.appendingPathComponent(name)
            try FileManager.default.copyItem(at: h.delivery.appendingPathComponent(image), to: changed)
            let f = try FITSFile.open(changed.path, mode: .readWrite)
            try f.moveTo(hdu: 2)
            try f.setKey("MAGZPT", .double(23.5), comment: "reprocessed")
            try f.close()
            let size = try FileManager.default.attributesOfItem(atPath: changed.path)[.size] as! Int
            try "# redelivery\n\(name) \(size)\n".write(to: v2.appendingPathComponent("COMPLETE"), atomically: true, encoding: .utf8)
            let third = try await h.run("curate")
            #expect(third.status == 0, "\(third.stderr)\n\(third.stdout)")
            let versions = try h.admin.query("""
                SELECT t.version, t.deprecated, m.deprecated, d.photZPCat FROM TransferLog t
                JOIN Multiframe m ON m.fileName = t.fileName JOIN MultiframeDetector d ON d.multiframeID = m.multiframeID AND d.extNum = 2
                WHERE t.deliveredName = $1 ORDER BY t.version
                """, [.text(name)])
            #expect(versions.count == 2)
            if versions.count == 2 {
                #expect(try versions[0].decode(Int32.self, at: 0) == 1 && versions[0].decode(Int16.self, at: 1) == 1
                        && versions[0].decode(Int16.self, at: 2) == 1)
                #expect(try versions[1].decode(Int32.self, at: 0) == 2 && versions[1].decode(Int16.self, at: 1) == 0
                        && versions[1].decode(Int16.self, at: 2) == 0)
                #expect(abs(try versions[1].decode(Float.self, at: 3) - 23.5) < 1e-4)
            }
            #expect(try h.count("SELECT count(*) FROM Multiframe WHERE frameType = 'normal' AND deprecated = 0") == images.count)
        }
    }

    @Test func aNightNotReadyIsNamedAndAfterItsTimeAnError() async throws {
        try await CurationHarness.with(night: TestNight.directory) { h in
            let marker = h.delivery.appendingPathComponent("20051012_v1/COMPLETE")
            var lines = try String(contentsOf: marker, encoding: .utf8).split(separator: "\n").map(String.init)
            let entry = lines[1].split(separator: " ")
            let (name, size) = (String(entry[0]), Int(entry[1])!)
            lines[1] = "\(name) \(size + 1)"
            try (lines.joined(separator: "\n") + "\n").write(to: marker, atomically: true, encoding: .utf8)
            let reason = "night 20051012_v1 is not ready: COMPLETE lists 20051012_v1/\(name) at \(size + 1) bytes, found \(size)"

            let dry = try await h.run("curate", ["--dry-run"])
            #expect(dry.status == 0 && dry.stdout.contains(reason), "\(dry.stdout)\n\(dry.stderr)")
            let cu1 = try await h.run("cu1")
            #expect(cu1.status == 0 && cu1.stdout.contains(reason), "\(cu1.stdout)\n\(cu1.stderr)")
            #expect(cu1.stdout.contains("1 night(s) not ready"))
            let log = h.root.appendingPathComponent("log/cu1.log")
            #expect(!(try String(contentsOf: log, encoding: .utf8)).contains("has not been ready"))
            // Past the configured time it is an ERROR (mailed), naming the night and the reason.
            _ = try await h.run("cu1", ["--not-ready-hours", "0"])
            let text = try String(contentsOf: log, encoding: .utf8)
            #expect(text.contains(" ERROR ") && text.contains("night 20051012_v1 of ") && text.contains("has not been ready for"),
                    "\(text.suffix(2000))")
            #expect(try h.count("SELECT count(*) FROM TransferLog") == 0)
        }
    }

    @Test func everyProgramAnswersHelpVersionAndDryRun() async throws {
        try await CurationHarness.with(night: TestNight.directory) { h in
            for program in ["cu1", "cu2", "cu3", "cu4", "cu5", "cu13", "cu14", "curate"] {
                let version = try await h.run(program, ["--version"])
                #expect(version.status == 0)
                #expect(version.stdout.range(of: #"^\d+\.\d+\.\d+\s*$"#, options: .regularExpression) != nil, "\(version.stdout)")
                let help = try await h.run(program, ["--help"])
                #expect(help.status == 0 && help.stdout.contains("--dry-run") && help.stdout.contains("--config"), "\(program)")
                #expect(try await h.run(program, ["--no-such-option"]).status == 64)
                #expect(try await h.run(program, ["--programme", "NOPE"]).status == 1)
            }
            let before = try h.state()
            let dry = try await h.run("curate", ["--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("would run cu1"), "\(dry.stdout)")
            let cu1 = try await h.run("cu1", ["--dry-run"])
            #expect(cu1.status == 0 && cu1.stdout.contains("would fetch 20051012_v1/"), "\(cu1.stdout)")
            #expect(try h.state() == before)
            #expect(try h.count("SELECT count(*) FROM ProgrammeCurationHistory") == 0)
            #expect(!FileManager.default.fileExists(atPath: h.archive.path))
        }
    }

    @Test func cu1FetchesFromAStaticHTTPServer() async throws {
        try await CurationHarness.with(night: TestNight.directory) { h in
            let (server, base) = try StaticHTTPServer.start(serving: h.delivery, log: h.root.appendingPathComponent("http.log").path)
            defer { server.signal(SIGKILL); _ = server.wait() }
            let run = try await h.run("cu1", ["--jobs", "3"], extra: ["WSA_PATHS_DELIVERY": base.absoluteString])
            #expect(run.status == 0, "\(run.stderr)")
            let damaged = try TestNight.corrupt()
            let delivered = try FileManager.default.contentsOfDirectory(atPath: TestNight.nightDirectory.path)
                .filter { $0.hasSuffix(".fit") || $0.hasSuffix(".fits") }
            #expect(try h.count("SELECT count(*) FROM TransferLog WHERE fileType <> 'marker'") == delivered.count - damaged.count)
            #expect(try h.count("SELECT count(*) FROM TransferLog WHERE fileType = 'marker'") == 1)
            #expect(try h.count("SELECT count(*) FROM Quarantine") == damaged.count)
            for row in try h.admin.query("SELECT sourcePath, checksum, fileName FROM TransferLog WHERE fileType <> 'marker'", []) {
                let source = TestNight.directory.appendingPathComponent(try row.decode(String.self, at: 0))
                let digest = SHA256.hash(try Data(contentsOf: source)).hexString
                #expect(try row.decode(String.self, at: 1) == digest)
                #expect(SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: try row.decode(String.self, at: 2)))).hexString == digest)
            }
            // Again through HTTP: the marker is unchanged, nothing is fetched.
            let again = try await h.run("cu1", extra: ["WSA_PATHS_DELIVERY": base.absoluteString])
            #expect(again.stdout.contains("transferred 0 file(s)"), "\(again.stdout)")
        }
    }

    /// Every truth star clear of the catalogue limit, saturation, edges and neighbours has a
    /// detection within 0.2″ whose magnitude is within 3σ of the truth.
    func checkDetectionsAgainstTruth(_ h: CurationHarness) throws {
        let truth = try TruthFrames(night: TestNight.directory)
        let (tX, tY, tMag, tType) = (truth.x, truth.y, truth.mag, truth.type)
        var tested = 0, matched = 0, within = 0
        var misses: [String] = []
        for path in try TestNight.goodImages() {
            let frame = try h.admin.query("""
                SELECT m.multiframeID, p.detectionTable FROM Multiframe m JOIN Programme p USING (programmeID)
                JOIN TransferLog t ON t.fileName = m.fileName WHERE t.sourcePath = $1
                """, [.text(path)])
            let id = try frame[0].decode(Int64.self, at: 0), table = try frame[0].decode(String.self, at: 1)
            let image = try FITSFile.open(TestNight.directory.appendingPathComponent(path).path)
            for camera in 1...4 {
                try image.moveTo(hdu: camera + 1)
                let wcs = try image.wcs()
                let rows = try h.admin.query(PostgresQuery(unsafeSQL: """
                    SELECT ra, dec, aperMag3, aperMag3Err FROM \(table) WHERE multiframeID = $1 AND extNum = $2 AND aperMag3 > -1e8
                    """, binds: [.int64(id), .int16(Int16(camera + 1))]))
                let found = try rows.map { (try $0.decode(Double.self, at: 0), try $0.decode(Double.self, at: 1),
                                            Double(try $0.decode(Float.self, at: 2)), Double(try $0.decode(Float.self, at: 3))) }
                guard !found.isEmpty else { Issue.record("\(path)[\(camera)]: no detections"); continue }
                let noisy = found.filter { $0.3 > 0.1 }.map(\.2).sorted()
                let limit = (noisy.isEmpty ? found.map(\.2).max()! : noisy[noisy.count / 10]) - 0.5
                let bright = found.map(\.2).min()! + 2
                let here = truth.on(path, camera: camera)
                for i in here where tType[i] == "star" && tMag[i] < limit && tMag[i] > bright {
                    let crowded = here.contains { $0 != i && abs(tX[$0] - tX[i]) < 8 && abs(tY[$0] - tY[i]) < 8 }
                    guard !crowded, tX[i] > 10, tY[i] > 10, tX[i] < 246, tY[i] < 246 else { continue }
                    tested += 1
                    let sky = try wcs.pixelToSky(PixelPosition(x: tX[i], y: tY[i]))
                    let cosDec = cos(sky.dec * .pi / 180)
                    let nearest = found.min { hypot(($0.0 - sky.ra) * cosDec, $0.1 - sky.dec) < hypot(($1.0 - sky.ra) * cosDec, $1.1 - sky.dec) }!
                    let separation = hypot((nearest.0 - sky.ra) * cosDec, nearest.1 - sky.dec) * 3600
                    if separation < 0.2 {
                        matched += 1
                        if abs(nearest.2 - tMag[i]) <= 3 * nearest.3 + 0.01 { within += 1 }
                    } else if misses.count < 10 {
                        misses.append("\(path)[\(camera)] star at \(tX[i]),\(tY[i]) mag \(tMag[i]): nearest \(separation)″")
                    }
                }
            }
            try image.close()
        }
        #expect(tested >= 60, "too few truth stars to test: \(tested)")
        #expect(Double(matched) >= 0.98 * Double(tested), "matched \(matched) of \(tested): \(misses)")
        #expect(Double(within) >= 0.95 * Double(matched), "\(within) of \(matched) within 3σ")
    }

    /// Every JPEG decodes (PIL), has its extension's size, and is not blank.
    func checkJPEGs(_ h: CurationHarness) throws {
        let rows = try h.admin.query("""
            SELECT d.compFile, d.axis1Length, d.axis2Length FROM MultiframeDetector d JOIN Multiframe m USING (multiframeID)
            WHERE m.frameType = 'normal'
            """, [])
        var lines: [String] = []
        for row in rows {
            lines.append("\(try row.decode(String.self, at: 0)) \(try row.decode(Int32.self, at: 1)) \(try row.decode(Int32.self, at: 2))")
        }
        #expect(lines.count == 4 * (try TestNight.goodImages().count))
        let list = h.root.appendingPathComponent("jpegs.txt")
        try lines.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let report = try runPython("""
            import sys
            from PIL import Image, ImageStat
            bad = []
            for line in open(sys.argv[1]):
                path, nx, ny = line.split()
                im = Image.open(path); im.load()
                stat = ImageStat.Stat(im.convert('L'))
                if sorted(im.size) != sorted((int(nx), int(ny))) or stat.stddev[0] < 2 or im.format != 'JPEG':
                    bad.append('%s %s %s %.2f' % (path, im.size, im.format, stat.stddev[0]))
            print('bad', len(bad), bad[:5])
            """, [list.path])
        #expect(report.hasPrefix("bad 0"), "\(report)")
    }
}
