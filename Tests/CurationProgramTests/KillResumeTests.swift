import Foundation
import Postgres
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL of cu3 and cu4 at random moments: never a row of a run that did not succeed; curate
/// resumes the killed runs and the end state equals an uninterrupted run's.
@Suite(.serialized, .enabled(if: TestEnvironment.hasDatabase))
struct KillResumeTests {
    /// Tables the chain writes, and their run column.
    static let tables = ["Multiframe", "MultiframeDetector", "CurrentAstrometry", "lasDetection", "gpsDetection",
                         "CatalogueIngest", "CompressedImage", "Quarantine", "TransferLog"]

    func noRowsOfUnfinishedRuns(_ h: CurationHarness) throws {
        for table in Self.tables {
            let orphans = try h.count("""
                SELECT count(*) FROM \(table) x JOIN ProgrammeCurationHistory r USING (cuEventID) WHERE r.status <> 'succeeded'
                """)
            #expect(orphans == 0, "\(table): \(orphans) row(s) of runs that did not succeed")
        }
    }

    /// Waits until the server has rolled back and recorded every run of a killed holder.
    func waitForOpenRuns(_ h: CurationHarness) async throws {
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM ProgrammeCurationHistory WHERE status = 'started'") > 0 {
            guard Date() < deadline else { Issue.record("runs still open after 60 s"); return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Starts `program` and kills it after `delays` seconds, each time; returns how many kills hit a running program.
    func killRounds(_ h: CurationHarness, _ program: String, delays: [Double]) async throws -> Int {
        var kills = 0
        for delay in delays {
            guard try h.killAfter(delay, program, ["--frames-per-step", "2"]) else { break }
            kills += 1
            try noRowsOfUnfinishedRuns(h)
            try await waitForOpenRuns(h)
            try noRowsOfUnfinishedRuns(h)
        }
        return kills
    }

    @Test func killedRunsLeaveNothingAndCurateResumesThem() async throws {
        let reference = try await CurationHarness.with(night: TestNight.directory) { h -> [String: String] in
            let run = try await h.run("curate")
            try #require(run.status == 0, "\(run.stderr)")
            return try h.state()
        }
        try await CurationHarness.with(night: TestNight.directory, leaseSeconds: 3) { h in
            try #require(try await h.run("cu1").status == 0)
            try #require(try await h.run("cu2").status == 0)
            let cu3Kills = try await killRounds(h, "cu3", delays: [0.25, 0.5, 0.8, 1.2])
            try #require(try await h.run("cu3", ["--frames-per-step", "2"]).status == 0)
            let cu4Kills = try await killRounds(h, "cu4", delays: [0.25, 0.5, 0.8, 1.2])
            #expect(cu3Kills + cu4Kills > 0, "no program was still running when killed")
            let failed = try h.count("SELECT count(*) FROM ResumableRun")
            let dry = try await h.run("curate", ["--dry-run"])
            #expect(dry.status == 0)
            #expect(dry.stdout.components(separatedBy: "would resume").count - 1 == failed, "\(dry.stdout)")

            let resumed = try await h.run("curate")
            #expect(resumed.status == 0, "\(resumed.stderr)\n\(resumed.stdout)")
            #expect(try h.count("SELECT count(*) FROM ResumableRun") == 0)
            try noRowsOfUnfinishedRuns(h)
            let state = try h.state()
            #expect(state == reference, "differ: \(state.keys.filter { state[$0] != reference[$0] }.sorted())")
        }
    }

    @Test func curateRefusesToRunTwiceAtOnce() async throws {
        try await CurationHarness.with(night: TestNight.directory) { h in
            let first = try h.start("curate")
            defer { if first.isRunning { first.signal(SIGKILL); _ = first.wait() } }
            // Wait for the first to hold its lock, then start a second.
            let lock = h.daemon.spool.appendingPathComponent("curate.lock").path
            let deadline = Date().addingTimeInterval(30)
            while !((try? String(contentsOfFile: lock, encoding: .utf8)) ?? "").contains("pid"), Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let second = try await h.run("curate")
            if first.isRunning {
                #expect(second.status == 75, "\(second.stderr)")
                #expect(second.stderr.contains("another curate is running"))
            }
            while first.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(first.wait() == 0, "\(first.output)")
        }
    }
}
