import Foundation

/// Fresh, isolated databases on the test cluster (`WSA_TEST_DATABASE`), one per test, made and
/// dropped with `psql` so that this module needs no database library.
public enum TestDatabase {
    /// The `psql` used (`WSA_PSQL` overrides).
    public static var psql: String {
        if let path = ProcessInfo.processInfo.environment["WSA_PSQL"] { return path }
        for candidate in ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "psql"
    }

    /// The connection string of the test cluster, pointed at database `name`.
    public static func conninfo(database name: String) throws -> String {
        guard let base = TestEnvironment.databaseURL else { throw TestDatabaseError("WSA_TEST_DATABASE is not set") }
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://"),
           var url = URLComponents(string: base) {
            url.path = "/" + name
            guard let text = url.string else { throw TestDatabaseError("cannot rewrite \(base)") }
            return text
        }
        // In a keyword/value string the last occurrence of a keyword wins.
        return base + " dbname=" + name
    }

    /// Creates an empty database with a unique name starting with `prefix`; returns its name.
    public static func create(prefix: String = "wsatest") throws -> String {
        let safe = prefix.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let name = "\(safe.prefix(30))_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try run("CREATE DATABASE \(name)")
        return name
    }

    /// Drops a database made by `create`, disconnecting anyone still using it.
    public static func drop(_ name: String) throws {
        try run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs `body` with the connection string of a fresh database, dropped afterwards.
    public static func withFresh<T>(prefix: String = "wsatest", _ body: (String) throws -> T) throws -> T {
        let name = try create(prefix: prefix)
        defer { try? drop(name) }
        return try body(try conninfo(database: name))
    }

    /// Runs `body` with the connection string of a fresh database, dropped afterwards.
    public static func withFresh<T>(prefix: String = "wsatest",
                                    _ body: (String) async throws -> T) async throws -> T {
        let name = try create(prefix: prefix)
        defer { try? drop(name) }
        return try await body(try conninfo(database: name))
    }

    /// Runs one SQL command with psql against the cluster's default database.
    private static func run(_ sql: String) throws {
        guard let base = TestEnvironment.databaseURL else { throw TestDatabaseError("WSA_TEST_DATABASE is not set") }
        let result = try runProcess(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c", sql])
        guard result.status == 0 else {
            throw TestDatabaseError("psql failed (\(sql)): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
