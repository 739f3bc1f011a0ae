import AppDriver
import Foundation
import WrapperCore

/// The curation discovery tool's rounds (seed 004 §8): resume the failed runs, then run what
/// the graph finds due, in dependency order, until nothing is due.
public struct CurationDiscovery {
    let ctx: CUContext
    let maxRounds: Int
    let maxResumes: Int
    let resume: Bool

    public init(ctx: CUContext, maxRounds: Int, maxResumes: Int, resume: Bool) {
        self.ctx = ctx
        self.maxRounds = maxRounds
        self.maxResumes = maxResumes
        self.resume = resume
    }

    var options: CUOptions { ctx.options }

    /// Arguments every CU run gets from curate.
    var commonArguments: [String] { ctx.childArguments }

    /// Runs the rounds; returns the summary line, or throws naming what failed.
    public func run() async throws -> String {
        var ran: [String: Int] = [:], failures: [String] = [], resumed = 0
        if resume {
            for run in try ctx.query.resumableRuns() {
                guard run.failedResumes < maxResumes, let name = run.command.first, name.hasPrefix("cu") else {
                    ctx.warn("run \(run.cuEventID) (CU\(run.cuID) \(run.programme)) is not resumed: \(run.failedResumes) resume(s) failed already")
                    continue
                }
                let line = ([name] + run.command.dropFirst()).joined(separator: " ")
                if options.dryRun {
                    print("curate: would resume run \(run.cuEventID) (CU\(run.cuID) \(run.programme)) with `\(line)`: it failed with \(run.errorText)")
                    continue
                }
                ctx.note("resuming run \(run.cuEventID) (CU\(run.cuID) \(run.programme)): \(line)")
                if try await launch(name, Array(run.command.dropFirst()), environment: ["WSA_RESUME_OF": String(run.cuEventID)]) {
                    resumed += 1
                } else {
                    failures.append("resume of run \(run.cuEventID)")
                }
            }
        }
        // The graph is per item: work a CU left due after it ran (or that failed) is reported and
        // set aside for this run, and the later CUs still run for everything that is ready.
        var attempts: [DueWork.Key: String] = [:], stuck: [String] = []
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
            var open: [DueWork] = []
            for work in due {
                guard let before = attempts[work.key] else { open.append(work); continue }
                if before != "failed" && !stuck.contains(where: { $0.hasPrefix(work.label + ":") }) {
                    let line = "\(work.label): still due after it ran: \(work.reason)"
                    ctx.warn("curate: \(line)")
                    stuck.append(line)
                }
            }
            guard let first = open.first else { break }
            let batch = open.filter { $0.cu == first.cu }
            ctx.note("round \(round): \(batch.map(\.label).joined(separator: ", "))")
            for work in batch {
                var args = commonArguments
                if let programme = work.programme { args += ["--programme", programme] }
                if !options.quiet { print("curate: \(work.label): \(work.reason)") }
                if try await launch("cu\(work.cu)", args, environment: [:]) {
                    ran["cu\(work.cu)", default: 0] += 1
                    attempts[work.key] = work.reason
                } else {
                    failures.append(work.label)
                    attempts[work.key] = "failed"
                }
            }
        }
        let list = ran.keys.sorted().map { "\($0) ×\(ran[$0]!)" }.joined(separator: ", ")
        let summary = "curate: ran \(ran.values.reduce(0, +)) program(s)\(list.isEmpty ? "" : " (\(list))"), resumed \(resumed) failed run(s)"
        guard failures.isEmpty, stuck.isEmpty else {
            let failed = failures.isEmpty ? "" : "; failed: \(failures.joined(separator: ", "))"
            let left = stuck.isEmpty ? "" : "; left due: \(stuck.joined(separator: "; "))"
            throw WrapperError(.failed, "\(summary)\(failed)\(left)")
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
