import ArgumentParser
import Wrappers

/// CU15: run periodic curation tasks CU6 to CU9 (seed 004 §7).
@main
struct CU15: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu15",
        abstract: "Run the periodic curation tasks (CU6 to CU9) that are due, programme by programme.",
        discussion: """
            For every programme, in the order its RequiredCurationTask rows give (CU6 spatial \
            attributes, CU8 merged source catalogue, CU9 list-driven remeasurement): runs each \
            task whose work is waiting — asked just before it runs, since each feeds the next — \
            as its own program with this run's configuration. With nothing new it runs nothing. \
            curate runs the same CUs as they fall due; cu15 is for a schedule of their own \
            (e.g. weekly from cron). --dry-run names what is due now.
            Exit status: 0 done (or nothing due), 1 a task failed, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    func run() async throws {
        try await CUContext.run(program: "cu15", cuID: 15, options: options) { ctx in
            try await PeriodicCuration(ctx: ctx).run()
        }
    }
}
