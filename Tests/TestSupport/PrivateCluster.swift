import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of a test's own (`scripts/pg.sh` with `WSA_PG_DATA`), beside the shared
/// test cluster, for faults that would disturb the other suites: crashing the server.
public struct PrivateCluster: Sendable {
    /// The conninfo of its migrated `wsa` database.
    public let conninfo: String
    let environment: [String: String]

    static var script: String { TestEnvironment.packageRoot.appendingPathComponent("scripts/pg.sh").path }

    /// Runs `pg.sh command` to its end with its output in a file, not a pipe: the server it
    /// starts must not hold a pipe of ours open. Returns (exit code, output).
    static func pgsh(_ command: String, _ environment: [String: String]) throws -> (Int32?, String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pgsh-\(UUID().uuidString).out").path
        defer { unlink(output) }
        let process = try BackgroundProcess("/bin/bash", [script, command], environment: environment, outputFile: output)
        process.wait()
        return (process.exitCode, process.output)
    }

    /// Runs `body` with a fresh migrated cluster; destroys it afterwards.
    public static func with<T>(_ body: (PrivateCluster) async throws -> T) async throws -> T {
        let data = "/var/tmp/wsa-pg-private-\(UUID().uuidString.prefix(8).lowercased())"
        var environment = ProcessInfo.processInfo.environment
        environment["WSA_PG_DATA"] = data
        environment.removeValue(forKey: "WSA_PG_PORT")
        defer { _ = try? pgsh("destroy", environment) }
        let (status, output) = try pgsh("start", environment)
        guard status == 0, let conninfo = output.split(separator: "\n").last(where: { $0.hasPrefix("host=") }).map(String.init) else {
            throw PythonError(message: "pg.sh start: \(output)")
        }
        let connection = try PostgresConnection(conninfo)
        _ = try SchemaMigrator(directory: TestEnvironment.packageRoot.appendingPathComponent("sql")).migrate(on: connection)
        connection.close()
        return try await body(PrivateCluster(conninfo: conninfo, environment: environment))
    }

    /// Stops the server as a crash would (`pg_ctl -m immediate`) and starts it again.
    public func crashAndRestart() throws {
        let (status, output) = try Self.pgsh("crash", environment)
        guard status == 0 else { throw PythonError(message: "pg.sh crash: \(output)") }
    }
}
