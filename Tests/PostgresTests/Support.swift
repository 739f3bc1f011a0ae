import Foundation
import Postgres
import TestSupport

/// Runs `body` with a connection to a fresh database that is dropped afterwards.
func withFreshConnection<T>(_ prefix: String = "pgtest", _ body: (PostgresConnection, String) throws -> T) throws -> T {
    try TestDatabase.withFresh(prefix: prefix) { conninfo in
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }
        return try body(connection, conninfo)
    }
}
