import CLibPQ

/// PostgreSQL foundation over libpq: connections, parameterised queries, transactions,
/// binary COPY and typed errors carrying SQLSTATE.
public enum Postgres {
    /// The libpq library version, e.g. 150018.
    public static var libraryVersion: Int { Int(PQlibVersion()) }
}
