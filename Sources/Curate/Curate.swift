import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import AppDriver
import Logging

/// The curation discovery tool (seed 004 §8): finds what is due and runs it.
@main
struct Curate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curate",
        abstract: "Find the curation that is due and run it, in dependency order (run it from cron).",
        discussion: """
            First runs again every failed run not yet made good (its recorded command, with \
            WSA_RESUME_OF naming it), then, round after round, asks each curation use case \
            whether work is waiting for it (new deliveries for CU1; per programme, transferred \
            frames without JPEGs for CU2, files not in Multiframe for CU3, catalogues not loaded \
            for CU4) and runs the first due CU in dependency order, until nothing is due. Only \
            one curate runs at a time (a lock in [paths] spool). --dry-run says what it would \
            run and why.
            Exit status: 0 all succeeded (or nothing due), 1 a CU failed or work stayed due, \
            64 bad usage, 75 another curate is running.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "At most this many rounds of discovery.")
    var maxRounds = 50

    @Option(help: "Give up on a failed run after this many failed resumes.")
    var maxResumes = 3

    @Flag(help: "Do not resume failed runs.")
    var noResume = false

    func run() async throws {
        try await CUContext.run(program: "curate", cuID: 0, options: options) { ctx in
            let instance = try SingleInstance(path: ctx.layout.spool.appendingPathComponent("curate.lock"), program: "curate")
            defer { instance.release() }
            return try await Discovery(ctx: ctx, options: options, maxRounds: maxRounds, maxResumes: maxResumes,
                                       resume: !noResume).run()
        }
    }
}

/// One curate run: resumes, then rounds of discovery.
struct Discovery {
    let ctx: CUContext
    let options: CUOptions
    let maxRounds: Int
    let maxResumes: Int
    let resume: Bool

    /// Arguments every CU run gets from curate.
    var commonArguments: [String] {
        var args: [String] = []
        if let config = options.config {
            args += ["--config", URL(fileURLWithPath: config).standardizedFileURL.path]
        }
        args += ["--lease-wait", String(options.leaseWait)]
        return args
    }

    func run() async throws -> String {
        var ran: [String: Int] = [:], failures: [String] = [], resumed = 0
        if resume {
            for run in try ctx.query.resumableRuns() {
                guard run.failedResumes < maxResumes, let name = run.command.first, name.hasPrefix("cu") else {
                    ctx.logger.warning("run \(run.cuEventID) (CU\(run.cuID) \(run.programme)) is not resumed: \(run.failedResumes) resume(s) failed already")
                    continue
                }
                let line = ([name] + run.command.dropFirst()).joined(separator: " ")
                if options.dryRun {
                    print("curate: would resume run \(run.cuEventID) (CU\(run.cuID) \(run.programme)) with `\(line)`: it failed with \(run.errorText)")
                    continue
                }
                ctx.logger.info("resuming run \(run.cuEventID) (CU\(run.cuID) \(run.programme)): \(line)")
                if try await launch(name, Array(run.command.dropFirst()), environment: ["WSA_RESUME_OF": String(run.cuEventID)]) {
                    resumed += 1
                } else {
                    failures.append("resume of run \(run.cuEventID)")
                }
            }
        }
        var previous: [DueWork] = []
        for round in 1...max(1, maxRounds) {
            let due = try await CurationGraph.due(ctx)
            if options.dryRun {
                for work in due {
                    let target = work.programme.map { " --programme \($0)" } ?? ""
                    print("curate: would run cu\(work.cu)\(target): \(work.reason)")
                }
                let resumable = resume ? try ctx.query.resumableRuns().filter { $0.failedResumes < maxResumes }.count : 0
                return "curate: \(due.count) run(s) due, \(resumable) failed run(s) to resume (nothing run: --dry-run)"
            }
            guard let first = due.first, failures.isEmpty else { break }
            let batch = due.filter { $0.cu == first.cu }
            if batch == previous {
                failures.append("cu\(first.cu) ran but its work is still due (\(first.reason))")
                break
            }
            previous = batch
            ctx.logger.info("round \(round): \(batch.map { "cu\($0.cu) \($0.programme ?? "")" }.joined(separator: ", "))")
            for work in batch {
                var args = commonArguments
                if let programme = work.programme { args += ["--programme", programme] }
                if !options.quiet { print("curate: cu\(work.cu)\(work.programme.map { " --programme \($0)" } ?? ""): \(work.reason)") }
                if try await launch("cu\(work.cu)", args, environment: [:]) {
                    ran["cu\(work.cu)", default: 0] += 1
                } else {
                    failures.append("cu\(work.cu)\(work.programme.map { " " + $0 } ?? "")")
                }
            }
        }
        let list = ran.keys.sorted().map { "\($0) ×\(ran[$0]!)" }.joined(separator: ", ")
        let summary = "curate: ran \(ran.values.reduce(0, +)) program(s)\(list.isEmpty ? "" : " (\(list))"), resumed \(resumed) failed run(s)"
        guard failures.isEmpty else {
            throw WrapperError(.failed, "\(summary); failed: \(failures.joined(separator: "; "))")
        }
        return summary + "; nothing left to do"
    }

    /// Runs a CU beside this program; prints its summary line; true when it succeeded.
    func launch(_ program: String, _ arguments: [String], environment: [String: String]) async throws -> Bool {
        let (succeeded, output) = try await ctx.runProgram(program, arguments, environment: environment)
        for line in output.split(separator: "\n") where !options.quiet { print("  \(line)") }
        return succeeded
    }
}
