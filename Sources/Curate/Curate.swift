import ArgumentParser
import Wrappers

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
            let instance = try ctx.holdSingleInstance()
            defer { instance.release() }
            return try await CurationDiscovery(ctx: ctx, maxRounds: maxRounds, maxResumes: maxResumes,
                                               resume: !noResume).run()
        }
    }
}
