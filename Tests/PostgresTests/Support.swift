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

/// A small deterministic random number generator (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
