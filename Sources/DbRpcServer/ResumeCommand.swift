import ArgumentParser
import Foundation
import LoadServer
import RPCContract
import Curation
import Logging

extension DbRpcServer {
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the failed curation runs not yet made good, and run each again.",
            discussion: """
                The same as the XML-RPC method `resume`: each failed run's recorded command is \
                started again from dbrpcserver's own directory with WSA_RESUME_OF set, so the new \
                run records which run it makes good. Output of each goes to \
                <paths.log>/resume-<cuEventID>.out.

                Example: dbrpcserver resume --dry-run
                """)

        @OptionGroup var options: CommonOptions

        @Flag(help: "Only list the runs and what would be started.")
        var dryRun = false

        func run() async throws {
            let config = try options.load()
            try await reportingFailure(config) { logger in
                let service = CurationService(
                    configuration: .init(conninfo: config.database.url,
                                         spool: URL(fileURLWithPath: config.paths.spool, isDirectory: true)),
                    logger: logger)
                let runs = try await service.resumableRuns()
                await service.shutdown(reason: "resume finished")
                let resumer = RunResumer(programDirectory: ServeSupport.programDirectory,
                                         outputDirectory: URL(fileURLWithPath: config.paths.log, isDirectory: true))
                let outcomes = resumer.resume(runs, dryRun: dryRun)
                for (run, outcome) in zip(runs, outcomes) {
                    print("run \(run.cuEventID) \(run.cuName) \(run.programme) failed at \(run.endedAt.map { "\($0)" } ?? "?"): \(run.errorText.prefix(120))")
                    print("  \(outcome.message)")
                    if outcome.pid != nil { logger.notice("resumed run \(run.cuEventID): \(outcome.message)") }
                }
                let started = outcomes.filter { $0.pid != nil }.count
                print("dbrpcserver resume: \(runs.count) failed run(s); \(dryRun ? "dry run, none started" : "\(started) started")")
                if !dryRun && started < runs.count { throw ExitCode.failure }
            }
        }
    }
}
