import ArgumentParser
import Curation
import Foundation
import Logging

@main
struct DbRpcServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbrpcserver",
        abstract: "The load server: every database write of the curation programs, as XML-RPC over HTTP.",
        discussion: """
            dbrpcserver runs next to PostgreSQL on the load server. Curation programs reach it \
            through DbHandler (or any XML-RPC client, e.g. Python's xmlrpc.client) at /RPC2 with \
            HTTP Basic credentials from the users file. It grants the fenced write lease, runs \
            each curation step in one transaction that commits with its success record, and loads \
            transaction files exactly once. GET /healthz says whether it can serve; GET /metrics \
            is for Prometheus. SIGTERM (or SIGINT) drains the calls in flight and stops.

            Examples:
              dbrpcserver migrate --sql-dir /usr/share/wsa/sql
              dbrpcserver hash-secret --user curator --role curator >> /etc/wsa/rpc-users
              dbrpcserver serve --config /etc/wsa/wsa.toml
              dbrpcserver resume --dry-run

            Exit status: 0 success, 1 failure (one line on stderr says why), 64 bad arguments.
            """,
        version: WSAVersion.current,
        subcommands: [Serve.self, Migrate.self, HashSecret.self, Resume.self],
        defaultSubcommand: Serve.self)
}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The WSA config file (default: $WSA_CONFIG, else ./wsa.toml).",
                                            valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("libpq connection string or URL of the database (default: [database] url).",
                                            valueName: "conninfo"))
    var database: String?

    func load() throws -> WSAConfig {
        var config = try WSAConfig.load(configFile: config)
        if let database { config.database.url = database }
        return config
    }
}

/// Runs `body` with the program's log (and ERROR mails) set up; any error becomes one line on
/// stderr, an ERROR in the log, and exit status 1.
func reportingFailure(_ config: WSAConfig, _ body: (Logger) async throws -> Void) async throws {
    let logging = try? WSALogging.bootstrap(program: "dbrpcserver", config: config)
    let logger = Logger(label: "wsa.dbrpcserver")
    do {
        try await body(logger)
        _ = logging?.shutdown(timeout: 5)
    } catch let exit as ExitCode {
        _ = logging?.shutdown(timeout: 5)
        throw exit
    } catch {
        logger.error("\(error)")
        _ = logging?.shutdown(timeout: 10)
        FileHandle.standardError.write(Data("dbrpcserver: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
