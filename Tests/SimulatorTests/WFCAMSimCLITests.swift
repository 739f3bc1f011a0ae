import FITS
import Foundation
import Testing
import TestSupport
@testable import SimulatorKit

/// The `wfcamsim` executable end to end: exit codes, one clear error line, help, version,
/// dry run, and a GPS night where the H2 knots show in H2 and hardly in K.
@Suite struct WFCAMSimCLITests {
    static var binary: String { TestEnvironment.productsDirectory.appendingPathComponent("wfcamsim").path }

    @Test func versionHelpAndBadOptions() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build wfcamsim first")
        let version = try runProcess(Self.binary, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .range(of: #"^\d+\.\d+\.\d+"#, options: .regularExpression) != nil)
        let help = try runProcess(Self.binary, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--out") && help.stdout.contains("Example"))
        let badProgramme = try runProcess(Self.binary, ["--out", "/tmp/never", "--programmes", "LAS,XYZ"])
        #expect(badProgramme.status == 64)
        #expect(badProgramme.stderr.contains("unknown programme 'XYZ'"))
        let badNight = try runProcess(Self.binary, ["--out", "/tmp/never", "--nights", "20051340"])
        #expect(badNight.status == 64)
        let missing = try runProcess(Self.binary, ["--size", "128"])
        #expect(missing.status == 64)
    }

    @Test func dryRunWritesNothingAndExistingOutputIsRefused() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build wfcamsim first")
        let dir = try TestEnvironment.temporaryDirectory("wsatest-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let dry = try runProcess(Self.binary, ["--out", out, "--size", "64", "--programmes", "DXS",
                                               "--start-night", "20051012", "--night-count", "2", "--dry-run"])
        #expect(dry.status == 0)
        let lines = dry.stdout.split(separator: "\n")
        #expect(lines.count == 2 * 2 * 2 * 2)  // nights × pointings × exposures × passbands
        #expect(lines.first?.hasPrefix("20051012_v1/w20051012_00001_sf_st.fit") == true)
        #expect(lines.contains { $0.hasPrefix("20061012_v1/") })
        #expect(!FileManager.default.fileExists(atPath: out))

        let args = ["--out", out, "--size", "64", "--programmes", "DXS", "--nights", "20051012",
                    "--pointings", "1", "--exposures", "1", "--quiet"]
        let first = try runProcess(Self.binary, args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.isEmpty)
        let again = try runProcess(Self.binary, args)
        #expect(again.status == 1)
        let errorLines = again.stderr.split(separator: "\n")
        #expect(errorLines.count == 1 && errorLines[0].hasPrefix("wfcamsim: error:") && errorLines[0].contains("--force"))
        let forced = try runProcess(Self.binary, args + ["--force"])
        #expect(forced.status == 0)
    }

    /// GPS: every pointing in H2 and K; the H2 emission knots are detected in the H2 catalogue
    /// and are at least two magnitudes fainter (or absent) in K.
    @Test func h2KnotsStandOutInH2() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsatest-gps")
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = SimulationConfig(outputDirectory: dir)
        c.seed = 5
        c.detectorSize = 192
        c.programmes = [.GPS]
        c.nights = [Night("20051012")!]
        c.pointings = 1
        c.exposures = 1
        c.starDensity = 0.3
        c.galaxyDensity = 0.3
        let sim = try Simulator(config: c)
        try sim.run()
        let frames = sim.plan.frames
        let h2 = try #require(frames.first { $0.passband == .H2 })
        let k = try #require(frames.first { $0.passband == .K })
        #expect(h2.base == k.base)
        let knots = sim.populations()[0].sources.filter { $0.type == .h2 }
        var detectedH2 = 0, onDetector = 0, brightInK = 0
        func catalogue(_ f: FrameSpec) throws -> [(ra: Double, dec: Double, flux: Double)] {
            let file = try FITSFile.open(dir.appendingPathComponent(f.night.directoryName).appendingPathComponent(f.catalogueName).path)
            var rows: [(Double, Double, Double)] = []
            for ext in 2...5 {
                try file.moveTo(hdu: ext)
                let ra: [Float] = try file.readColumn("RA"), dec: [Float] = try file.readColumn("DEC")
                let flux: [Float] = try file.readColumn("Aper_flux_5")
                let zp = try file.requireDouble("MAGZPT")
                for i in ra.indices {
                    // Flux normalised to magnitude zero point 25 and 1 s, comparable across bands.
                    rows.append((Double(ra[i]) * 180 / .pi, Double(dec[i]) * 180 / .pi,
                                 Double(flux[i]) / f.expTime * pow(10, 0.4 * (25 - zp))))
                }
            }
            return rows
        }
        let catH2 = try catalogue(h2), catK = try catalogue(k)
        func nearest(_ rows: [(ra: Double, dec: Double, flux: Double)], _ s: SkySource) -> (ra: Double, dec: Double, flux: Double)? {
            rows.first { abs($0.dec - s.dec) * 3600 < 1.0 && abs($0.ra - s.ra) * cos(s.dec * .pi / 180) * 3600 < 1.0 }
        }
        // Knots drawn well inside a detector of the H2 frame, from the truth.
        let truth = try SimulatedNightTests.truthHits(dir)
        let h2Name = h2.night.directoryName + "/" + h2.imageName
        let byID = Dictionary(uniqueKeysWithValues: knots.map { ($0.id, $0) })
        for ext in 1...4 {
            for hit in truth["\(h2Name)#\(ext)"] ?? [] where hit.type == "h2" {
                guard hit.x > 8, hit.y > 8, hit.x < 184, hit.y < 184, let s = byID[hit.id] else { continue }
                onDetector += 1
                guard let found = nearest(catH2, s) else { continue }
                detectedH2 += 1
                if let kHit = nearest(catK, s), kHit.flux > found.flux / pow(10, 0.4 * 2) { brightInK += 1 }
            }
        }
        #expect(onDetector >= 5, "only \(onDetector) H2 knots landed well inside a detector")
        #expect(Double(detectedH2) >= 0.8 * Double(onDetector), "\(detectedH2) of \(onDetector) knots detected in H2")
        #expect(brightInK == 0, "\(brightInK) knots are not at least 2 mag fainter in K")
    }
}
