import ArgumentParser
import Curation
import Foundation
import Logging
import Postgres

struct WSADB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsadb",
        abstract: "Administer the archive database schema: apply and inspect migrations.",
        discussion: """
            The schema lives in ordered migration files, NNNN_name.sql. Each is applied once, in \
            its own transaction, and recorded in the table schema_migrations with its SHA-256 \
            checksum; a migration whose file changed after it was applied is refused.

            Examples:
              wsadb migrate --database "host=127.0.0.1 port=55432 dbname=wsa user=wsa"
              WSA_DATABASE=postgresql://wsa@127.0.0.1:55432/wsa wsadb status

            Exit status: 0 success, 1 failure, 3 (status --check) the schema is not up to \
            date, 64 bad arguments.
            """,
        version: WSAVersion.current,
        subcommands: [Migrate.self, Status.self])
}

struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq connection string or URL of the database "
            + "(default: $WSA_DATABASE, else [database] url of the config file).",
        valueName: "conninfo"))
    var database: String?

    @Option(name: .long, help: ArgumentHelp(
        "The WSA config file (default: $WSA_CONFIG, else ./wsa.toml).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("sql-dir"), help: ArgumentHelp(
        "Directory of NNNN_name.sql migration files.", valueName: "dir"))
    var sqlDirectory: String = "sql"

    func validate() throws {
        do {
            _ = try resolvedDatabase()
        } catch let error as CurationError {
            throw ValidationError(error.description)
        }
    }

    /// --database, else $WSA_DATABASE, else the config file's `[database] url`.
    func resolvedDatabase() throws -> String {
        if let database { return database }
        if let env = ProcessInfo.processInfo.environment["WSA_DATABASE"], !env.isEmpty { return env }
        return try WSAConfig.load(configFile: config).database.url
    }

    func migrator() throws -> SchemaMigrator {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: sqlDirectory, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw PostgresError(code: .migrationInvalid,
                                message: "no migrations directory '\(sqlDirectory)' "
                                    + "(run from the project root or pass --sql-dir)")
        }
        return try SchemaMigrator(directory: URL(fileURLWithPath: sqlDirectory, isDirectory: true))
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(try resolvedDatabase(), applicationName: "wsadb")
    }
}

/// Runs a command body with the program's log file (and ERROR mails) set up, turning any error
/// into one line on stderr, an ERROR in the log, and exit status 1.
func reportingFailure(_ options: DatabaseOptions, _ body: (Logger) throws -> Void) throws {
    let config = try WSAConfig.load(configFile: options.config)
    let logging = try? WSALogging.bootstrap(program: "wsadb", config: config)
    defer { _ = logging?.shutdown(timeout: 5) }
    let logger = Logger(label: "wsa.wsadb")
    do {
        try body(logger)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        logger.error("\(error)")
        FileHandle.standardError.write(Data("wsadb: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

extension WSADB {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending migrations, each in its own transaction.",
            discussion: """
                Takes an advisory lock first, so two concurrent runs are safe: the second waits, \
                then finds nothing left to do. Stops at the first migration that fails (it is \
                rolled back; the ones before it stay applied).

                Example: wsadb migrate --sql-dir sql --dry-run
                """)

        @OptionGroup var options: DatabaseOptions

        @Flag(help: "List the migrations that would be applied, and change nothing.")
        var dryRun = false

        func run() throws {
            try reportingFailure(options) { logger in
                let migrator = try options.migrator()
                let connection = try options.connect()
                defer { connection.close() }
                let report = try migrator.migrate(on: connection, dryRun: dryRun)
                for step in report.applied {
                    if report.dryRun {
                        print("would apply \(step.migration.fileName)")
                    } else {
                        print("applied \(step.migration.fileName) (\(step.milliseconds) ms)")
                        logger.notice("applied migration \(step.migration.fileName)",
                                      metadata: ["checksum": "\(step.migration.checksum)",
                                                 "ms": "\(step.milliseconds)"])
                    }
                }
                let done = report.dryRun ? "dry run: \(plural(report.applied.count, "migration")) would be applied"
                                         : "applied \(plural(report.applied.count, "migration"))"
                print("wsadb: \(done) (\(report.alreadyApplied) already applied); "
                      + "database at version \(report.currentVersion)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List applied and pending migrations.",
            discussion: """
                Reads only. A migration marked CHANGED was applied and has been edited since; \
                one marked MISSING was applied but its file is gone.

                Example: wsadb status --check || wsadb migrate
                """)

        @OptionGroup var options: DatabaseOptions

        @Flag(help: "Exit with status 3 unless every migration is applied and unchanged.")
        var check = false

        func run() throws {
            var upToDate = true
            try reportingFailure(options) { _ in
                let migrator = try options.migrator()
                let connection = try options.connect()
                defer { connection.close() }
                let status = try migrator.status(on: connection)
                let changed = Set(status.changed.map(\.version))
                let applied = Dictionary(uniqueKeysWithValues: status.applied.map { ($0.version, $0) })
                let iso = ISO8601DateFormatter()
                var lines: [(Int, String)] = []
                for m in migrator.migrations {
                    if let a = applied[m.version] {
                        let state = changed.contains(m.version) ? "CHANGED" : "applied"
                        lines.append((m.version, "\(state)  \(m.fileName)  \(iso.string(from: a.appliedAt))  \(a.checksum.prefix(12))"))
                    } else {
                        lines.append((m.version, "pending  \(m.fileName)"))
                    }
                }
                for a in status.missing {
                    lines.append((a.version, "MISSING  \(String(format: "%04d", a.version))_\(a.name).sql  \(iso.string(from: a.appliedAt))  \(a.checksum.prefix(12))"))
                }
                for (_, line) in lines.sorted(by: { $0.0 < $1.0 }) { print(line) }
                var summary = "\(status.applied.count) applied, \(status.pending.count) pending"
                if !status.changed.isEmpty { summary += ", \(status.changed.count) changed" }
                if !status.missing.isEmpty { summary += ", \(status.missing.count) missing" }
                print("wsadb: \(summary); database at version \(status.currentVersion)")
                upToDate = status.pending.isEmpty && status.changed.isEmpty
            }
            if check && !upToDate { throw ExitCode(3) }
        }
    }
}

WSADB.main()
