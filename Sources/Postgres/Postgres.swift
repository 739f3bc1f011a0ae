import CLibPQ

// PostgreSQL foundation over libpq: connections, parameterised queries, transactions,
// binary COPY, schema migrations and one error type carrying SQLSTATE.
//
// No type here is named `Postgres`, so `Postgres.X` always means this module's `X`.

/// Facts about the linked libpq.
public enum PostgresLibrary {
    /// The libpq library version, e.g. 150018.
    public static var version: Int { Int(PQlibVersion()) }

    /// Whether libpq was built thread-safe (connections may then live on different threads).
    public static var isThreadSafe: Bool { PQisthreadsafe() == 1 }
}
