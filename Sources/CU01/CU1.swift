import ArgumentParser
import Wrappers

/// CU1: obtain science data from CASU (seed 004 §7).
@main
struct CU1: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu1",
        abstract: "Fetch the nights CASU delivered into the archive file system.",
        discussion: """
            Looks at the delivery area ([paths] delivery: a directory or an http(s) URL) for \
            night directories that are ready (their COMPLETE marker lists every file with its \
            size, or, without a marker, sizes stay the same over a few seconds). Each new file is \
            copied under a temporary name, its SHA-256 checked, and renamed into \
            [paths] archive/fits/<night>/; the same file again is skipped; the same name with new \
            content becomes a new version (under <night>/v<N>/) and the earlier one is deprecated. \
            The programme comes from PROJECT in the FITS header. Every transfer goes into \
            TransferLog in one atomic step per programme. A file that is not readable FITS, names \
            an unknown programme, or is a catalogue without its image is reported, set aside \
            under [paths] quarantine and recorded in Quarantine; the rest of the night goes on.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Transfers run at once.")
    var jobs = 4

    @Option(help: "Seconds a night without a COMPLETE marker must keep its sizes to count as ready.")
    var settle = 2.0

    @Option(help: "Hours a night may stay not ready (no COMPLETE, or sizes that disagree with it) before it is reported as an ERROR (mailed).")
    var notReadyHours = 24.0

    @Flag(help: "Check every file of every ready night by checksum, even when its marker is unchanged.")
    var rehash = false

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1 to 64") }
    }

    func run() async throws {
        try await CUContext.run(program: "cu1", cuID: 1, options: options) { [jobs, settle, rehash, notReadyHours] ctx in
            let area = try ctx.deliveryArea(settle: .milliseconds(Int(settle * 1000)))
            let transfer = try ctx.nightTransfer(from: area, jobs: jobs)
            var tally = Tally()
            let surveys = try await ctx.surveyNights(in: area, rehash: rehash)
            try ctx.watchUnreadyNights(surveys, limit: .seconds(notReadyHours * 3600))
            for survey in surveys {
                guard survey.ready else {
                    ctx.report("cu1: night \(survey.night) is not ready: \(survey.reason)")
                    tally.notReady += 1
                    continue
                }
                guard !survey.unchanged else { continue }
                tally.nights += 1
                if ctx.options.dryRun {
                    for file in survey.candidates { print("cu1: would fetch \(file.relativePath) (\(file.size) bytes)") }
                    tally.transferred += survey.candidates.count
                    continue
                }
                ctx.expectWork(survey.candidates.count)
                let night = try await transfer.transfer(survey) { ctx.workDone() }
                tally.duplicates += night.duplicates
                for batch in night.batches {  // one step per programme; the night's marker last
                    try await ctx.step(programme: batch.programme) { db, step in try await db.logTransfers(batch, in: step) }
                    tally.add(batch)
                }
            }
            return tally.summary(dryRun: ctx.options.dryRun)
        }
    }

    struct Tally {
        var transferred = 0, nights = 0, duplicates = 0, newVersions = 0, quarantined = 0, notReady = 0
        var programmes: Set<String> = []

        mutating func add(_ batch: TransferBatch) {
            transferred += batch.files
            newVersions += batch.newVersions
            quarantined += batch.quarantined.count
            if let programme = batch.programme { programmes.insert(programme) }
        }

        func summary(dryRun: Bool) -> String {
            "cu1: \(dryRun ? "would fetch" : "transferred") \(transferred) file(s) from \(nights) night(s) "
                + "(\(programmes.count) programme(s)); \(duplicates) duplicate(s) skipped, \(newVersions) new version(s), "
                + "\(quarantined) bad file(s) quarantined, \(notReady) night(s) not ready"
        }
    }
}
