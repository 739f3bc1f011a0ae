import AppDriver
import Foundation
import WrapperCore

/// CU15's rule (seed 004 §7): run the periodic curation tasks, CU6 to CU9, of every programme
/// in the order its `RequiredCurationTask` rows give (`taskOrder`), each only when the curation
/// graph finds work for it — asked just before it runs, since each feeds the next. Idempotent:
/// with nothing new it runs nothing. `curate` runs the same CUs as they fall due; CU15 is for
/// sites that run the periodic tasks on their own schedule.
public struct PeriodicCuration {
    /// The curation tasks CU15 stands for.
    public static let periodicTasks = 6...9

    let ctx: CUContext

    public init(ctx: CUContext) { self.ctx = ctx }

    /// Runs the due tasks; returns the summary line, or throws naming the task that failed.
    public func run() async throws -> String {
        var ran: [String] = [], unavailable: Set<Int> = []
        for programme in try ctx.programmes() {
            for cu in try ctx.query.requiredCurationTasks(programmeID: programme.programmeID)
            where Self.periodicTasks.contains(cu) {
                guard let task = CurationGraph.tasks.first(where: { $0.cu == cu }) else {
                    if unavailable.insert(cu).inserted { ctx.note("cu15: CU\(cu) is prescribed but not part of this release; skipped") }
                    continue
                }
                guard let reason = try await task.due(ctx, programme) else { continue }
                let label = "\(task.program) --programme \(programme.name)"
                if ctx.options.dryRun {
                    print("cu15: would run \(label): \(reason)")
                    continue
                }
                if !ctx.options.quiet { print("cu15: \(label): \(reason)") }
                let (succeeded, output) = try await ctx.runProgram(task.program, ctx.childArguments + ["--programme", programme.name],
                                                                   environment: [:])
                for line in output.split(separator: "\n") where !ctx.options.quiet { print("  \(line)") }
                guard succeeded else { throw WrapperError(.failed, "cu15: \(label) failed; ran before it: \(ran.joined(separator: ", "))") }
                ran.append(label)
            }
        }
        if ctx.options.dryRun { return "cu15: nothing run (--dry-run)" }
        return "cu15: ran \(ran.count) task(s)" + (ran.isEmpty ? ": nothing was due" : ": " + ran.joined(separator: ", "))
    }
}

extension CUContext {
    /// Arguments a CU run by another program (curate, cu15) gets: this run's configuration file
    /// and lease wait.
    public var childArguments: [String] {
        var args: [String] = []
        if let config = options.config {
            args += ["--config", URL(fileURLWithPath: config).standardizedFileURL.path]
        }
        args += ["--lease-wait", String(options.leaseWait)]
        return args
    }
}
