import ArgumentParser
import Foundation
import Postgres
import Curation
import Logging

extension DbRpcServer {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the schema's pending migrations (the same as `wsadb migrate`).",
            discussion: """
                Each migration runs once, in its own transaction, and is recorded with its checksum \
                in schema_migrations; concurrent runs are safe (an advisory lock).

                Example: dbrpcserver migrate --sql-dir sql --dry-run
                """)

        @OptionGroup var options: CommonOptions

        @Option(name: .customLong("sql-dir"), help: ArgumentHelp("Directory of NNNN_name.sql migrations.", valueName: "dir"))
        var sqlDirectory = "sql"

        @Flag(help: "List the migrations that would be applied, and change nothing.")
        var dryRun = false

        func run() async throws {
            let config = try options.load()
            try await reportingFailure(config) { logger in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: sqlDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw PostgresError(code: .migrationInvalid,
                                        message: "no migrations directory '\(sqlDirectory)' (pass --sql-dir)")
                }
                let migrator = try SchemaMigrator(directory: URL(fileURLWithPath: sqlDirectory, isDirectory: true))
                let connection = try PostgresConnection(config.database.url, applicationName: "dbrpcserver migrate")
                defer { connection.close() }
                let report = try migrator.migrate(on: connection, dryRun: dryRun)
                for step in report.applied {
                    print(report.dryRun ? "would apply \(step.migration.fileName)"
                                        : "applied \(step.migration.fileName) (\(step.milliseconds) ms)")
                    if !report.dryRun { logger.notice("applied migration \(step.migration.fileName)") }
                }
                print("dbrpcserver migrate: \(report.dryRun ? "would apply" : "applied") \(report.applied.count) migration(s), "
                      + "\(report.alreadyApplied) already applied; database at version \(report.currentVersion)")
            }
        }
    }
}
