import Foundation
import Postgres
import Testing
import TestSupport

/// A night holding hundreds of damaged copies of good files beside the good ones: nothing
/// crashes or hangs, every good frame is ingested once with its detections, and every damaged
/// file is either ingested or quarantined with a reason a person can act on.
@Suite(.serialized, .enabled(if: TestEnvironment.hasDatabase))
struct MutantNightTests {
    @Test func badFilesNeverHoldBackTheGoodOnes() async throws {
        try await CurationHarness.with(night: TestNight.directory) { h in
            let night = h.delivery.appendingPathComponent("20051012_v1")
            let images = try TestNight.goodImages().map { String($0.split(separator: "/").last!) }
            let mutants = try MutantFiles.make(in: night, from: images, count: 210, seed: 2026)

            let run = try await h.run("curate")
            print("curate said:\n\(run.stdout)\n\(run.stderr)")
            if run.status != 0 {  // what the CUs that failed logged
                for cu in ["cu5", "cu13"] {
                    let log = (try? String(contentsOf: h.root.appendingPathComponent("log/\(cu).log"), encoding: .utf8)) ?? ""
                    print("\(cu) errors:\n" + log.split(separator: "\n").filter { $0.contains(" ERROR ") }.prefix(12)
                        .map { String($0.prefix(700)) }.joined(separator: "\n"))
                }
            }
            #expect(run.status == 0 || run.status == 1, "curate: \(run.status)\n\(run.stderr)")
            #expect(run.stdout.contains("curate: ran") || run.stderr.contains("curate: ran"), "no summary: \(run.stdout)\n\(run.stderr)")

            // Every good frame once, with its catalogue loaded.
            for image in images {
                let rows = try h.count("""
                    SELECT count(*) FROM Multiframe m JOIN TransferLog t ON t.fileName = m.fileName
                    JOIN CatalogueIngest c ON c.multiframeID = m.multiframeID
                    WHERE t.sourcePath = '20051012_v1/\(image)' AND m.frameType = 'normal' AND c.rowsLoaded > 0
                    """)
                #expect(rows == 1, "\(image): \(rows) ingested frame(s) with detections")
            }

            // Every damaged file either ingested or quarantined.
            var quarantined = 0
            for mutant in mutants {
                let path = "20051012_v1/\(mutant.damaged)"
                let inQuarantine = try h.count("SELECT count(*) FROM Quarantine WHERE sourcePath = '\(path)'")
                let ingested = mutant.damaged.hasSuffix("_cat.fits")
                    ? try h.count("SELECT count(*) FROM CatalogueIngest c JOIN TransferLog t ON t.fileName = c.catName WHERE t.sourcePath = '\(path)'")
                    : try h.count("SELECT count(*) FROM Multiframe m JOIN TransferLog t ON t.fileName = m.fileName WHERE t.sourcePath = '\(path)'")
                #expect(inQuarantine + ingested == 1,
                        "\(mutant.damaged) (\(mutant.mutation.rawValue): \(mutant.detail)): quarantined \(inQuarantine), ingested \(ingested)")
                quarantined += inQuarantine
            }
            #expect(quarantined > mutants.count / 3, "only \(quarantined) of \(mutants.count) damaged files quarantined")

            // Reasons a person can act on: one short printable line, no machine paths.
            for row in try h.admin.query("SELECT fileName, reason FROM Quarantine", []) {
                let file = try row.decode(String.self, at: 0), reason = try row.decode(String.self, at: 1)
                #expect(reason.count <= 300, "\(file): \(reason.count) characters")
                #expect(!reason.contains(h.root.path) && !reason.contains("/tmp/"), "\(file): a machine path in \(reason)")
                #expect(reason.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && $0.value != 0xFFFD },
                        "\(file): unprintable characters in \(reason.debugDescription)")
            }

            // Nothing is left due forever: a second curate runs nothing and exits 0.
            let again = try await h.run("curate")
            #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
            #expect(again.stdout.contains("ran 0 program(s)"), "\(again.stdout)")
        }
    }

    /// Writes the night with its mutants to `WSA_MUTANTS_OUT` (to look at them by hand).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["WSA_MUTANTS_OUT"] != nil))
    func writeTheMutantNight() throws {
        let out = URL(fileURLWithPath: ProcessInfo.processInfo.environment["WSA_MUTANTS_OUT"]!)
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.copyItem(at: TestNight.nightDirectory, to: out)
        let images = try TestNight.goodImages().map { String($0.split(separator: "/").last!) }
        let mutants = try MutantFiles.make(in: out, from: images, count: 210, seed: 2026)
        try mutants.map { "\($0.damaged),\($0.mutation.rawValue),\($0.detail)" }.joined(separator: "\n")
            .write(to: out.appendingPathComponent("mutants.csv"), atomically: true, encoding: .utf8)
    }
}
