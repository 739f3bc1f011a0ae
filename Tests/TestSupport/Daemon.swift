public import Foundation
import LoadServer
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// A real dbrpcserver process on a fresh, migrated database, for the tests.
public final class Daemon: @unchecked Sendable {
    public static let curator = (user: "cu", password: "cu-secret")
    public static let reader = (user: "ro", password: "ro-secret")

    public let database: String
    public let directory: URL
    public let leaseSeconds: Double
    /// Extra WSA_* settings (TLS, say).
    public let environment: [String: String]
    public private(set) var process: BackgroundProcess
    public private(set) var port: Int

    public var spool: URL { directory.appendingPathComponent("spool") }
    public var transactions: URL { spool.appendingPathComponent("transactions") }
    public var usersFile: URL { directory.appendingPathComponent("users") }
    public var log: String { process.output }

    /// Starts a daemon on `database` (migrated) with its spool, log and users under `directory`.
    public init(database: String, directory: URL, leaseSeconds: Double = 5, environment: [String: String] = [:]) throws {
        self.database = database
        self.directory = directory
        self.leaseSeconds = leaseSeconds
        self.environment = environment
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("users").path) {
            let lines = [
                CredentialStore.line(user: Self.curator.user, role: "curator", password: Self.curator.password, iterations: 1000),
                CredentialStore.line(user: Self.reader.user, role: "reader", password: Self.reader.password, iterations: 1000),
            ]
            try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("users"), atomically: true, encoding: .utf8)
        }
        (process, port) = try Self.launch(database: database, directory: directory, leaseSeconds: leaseSeconds,
                                          environment: environment)
    }

    private static func launch(database: String, directory: URL, leaseSeconds: Double,
                               environment extra: [String: String]) throws -> (BackgroundProcess, Int) {
        let portFile = directory.appendingPathComponent("port").path
        try? FileManager.default.removeItem(atPath: portFile)
        let process = try BackgroundProcess(
            TestEnvironment.productsDirectory.appendingPathComponent("dbrpcserver").path,
            ["serve", "--database", database, "--users-file", directory.appendingPathComponent("users").path,
             "--port", "0", "--port-file", portFile, "--lease-seconds", String(leaseSeconds)],
            environment: ["WSA_PATHS_SPOOL": directory.appendingPathComponent("spool").path,
                          "WSA_PATHS_LOG": directory.appendingPathComponent("log").path,
                          "WSA_LOGGING_LEVEL": "info"].merging(extra) { $1 },
            outputFile: directory.appendingPathComponent("daemon.out").path)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return (process, port)
            }
            guard process.isRunning else {
                throw PythonError(message: "dbrpcserver exited at start: \(process.output)")
            }
            usleep(50_000)
        }
        throw PythonError(message: "dbrpcserver did not start within 60 s: \(process.output)")
    }

    /// The XML-RPC URL with credentials, as Python's xmlrpc.client takes it.
    public func url(_ who: (user: String, password: String) = Daemon.curator) -> String {
        "\(scheme)://\(who.user):\(who.password)@127.0.0.1:\(port)/RPC2"
    }

    public var plainURL: String { "\(scheme)://127.0.0.1:\(port)/RPC2" }

    /// `https` when the daemon was given a TLS certificate.
    public var scheme: String { environment["WSA_RPC_TLS_CERTIFICATE"] == nil ? "http" : "https" }

    /// Kills the daemon with `signal` and waits for it.
    public func stop(_ signal: Int32 = SIGTERM) {
        process.signal(signal)
        process.wait()
    }

    /// Starts it again (a new port) after `stop`.
    public func restart() throws {
        (process, port) = try Self.launch(database: database, directory: directory, leaseSeconds: leaseSeconds,
                                          environment: environment)
    }

    deinit { if process.isRunning { stop(SIGKILL) } }

    /// Runs `body` with a daemon on a fresh migrated database; drops it afterwards.
    public static func withFresh<T>(leaseSeconds: Double = 15, environment: [String: String] = [:],
                                    _ body: (Daemon) async throws -> T) async throws -> T {
        try await TestDatabase.withFresh(prefix: "rpc") { conninfo in
            let connection = try PostgresConnection(conninfo)
            _ = try SchemaMigrator(directory: TestEnvironment.packageRoot.appendingPathComponent("sql"))
                .migrate(on: connection)
            connection.close()
            let directory = try TestEnvironment.temporaryDirectory("rpc")
            defer { try? FileManager.default.removeItem(at: directory) }
            let daemon = try Daemon(database: conninfo, directory: directory, leaseSeconds: leaseSeconds,
                                    environment: environment)
            defer { if daemon.process.isRunning { daemon.stop(SIGKILL) } }
            return try await body(daemon)
        }
    }
}
