public import Foundation
import TransactionFormat

/// One schema migration: a file `NNNN_name.sql` of SQL statements.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var fileName: String
    public var sql: String
    /// SHA-256 of the file's bytes, lower-case hex.
    public var checksum: String

    /// `checksum` defaults to the SHA-256 of `sql`'s UTF-8 bytes.
    public init(version: Int, name: String, fileName: String, sql: String, checksum: String? = nil) {
        self.version = version
        self.name = name
        self.fileName = fileName
        self.sql = sql
        self.checksum = checksum ?? SHA256.hash(Array(sql.utf8)).hexString
    }
}

/// A migration recorded in `schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var checksum: String
    public var appliedAt: Date
    public var executionMilliseconds: Int
}

/// Where a database stands against a directory of migrations.
public struct MigrationStatus: Sendable {
    /// Recorded as applied, in version order.
    public var applied: [AppliedMigration]
    /// Not applied yet, in the order they would be applied.
    public var pending: [Migration]
    /// Applied, but the file has changed since (the database refuses to migrate).
    public var changed: [Migration]
    /// Applied, but no file of that version exists any more.
    public var missing: [AppliedMigration]

    /// The highest applied version (0 when none).
    public var currentVersion: Int { applied.map(\.version).max() ?? 0 }
}

/// What one `migrate` run did.
public struct MigrationReport: Sendable {
    public struct Step: Sendable {
        public var migration: Migration
        public var milliseconds: Int
    }
    /// Applied by this run (or, for a dry run, that would be).
    public var applied: [Step]
    /// Already applied before this run.
    public var alreadyApplied: Int
    public var dryRun: Bool
    /// The highest applied version after the run.
    public var currentVersion: Int
}

/// Applies ordered migrations, each in its own transaction, and records them in
/// `schema_migrations` (version, name, SHA-256 checksum of the file, applied time, duration).
///
/// Applied migrations are skipped; if an applied migration's file has changed the migrator
/// refuses to run (`migrationChanged`). A session advisory lock makes concurrent runs safe: the
/// second waits, then finds nothing left to do.
public struct SchemaMigrator: Sendable {
    public let migrations: [Migration]

    /// The advisory lock key taken while migrating.
    public static let advisoryLockKey: Int64 = 0x5753_4144_425F_4D47  // "WSADB_MG"

    /// Migrations given directly; versions must be unique.
    public init(migrations: [Migration]) throws {
        var seen: [Int: String] = [:]
        for m in migrations {
            if let other = seen[m.version] {
                throw PostgresError(code: .migrationInvalid,
                                    message: "two migrations with version \(m.version): \(other) and \(m.fileName)")
            }
            seen[m.version] = m.fileName
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The migrations in a directory: every `NNNN_name.sql` file (other files are ignored, a
    /// `.sql` file named otherwise is an error).
    public init(directory: URL) throws {
        try self.init(migrations: Self.loadMigrations(from: directory))
    }

    public static func loadMigrations(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(code: .migrationInvalid,
                                message: "cannot read the migrations directory \(directory.path)")
        }
        var result: [Migration] = []
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            guard let (version, name) = parse(fileName) else {
                throw PostgresError(code: .migrationInvalid,
                                    message: "\(fileName): a migration must be named NNNN_name.sql")
            }
            let url = directory.appendingPathComponent(fileName)
            guard let data = FileManager.default.contents(atPath: url.path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw PostgresError(code: .migrationInvalid,
                                    message: "\(fileName): cannot read it as UTF-8 text")
            }
            result.append(Migration(version: version, name: name, fileName: fileName, sql: sql,
                                    checksum: SHA256.hash(data).hexString))
        }
        return result
    }

    /// `0001_core.sql` → (1, "core").
    static func parse(_ fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore], name = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCII), let version = Int(digits), version > 0,
              !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return (version, String(name))
    }

    /// Compares the database with the migrations, reading only (nothing is created).
    public func status(on connection: PostgresConnection) throws -> MigrationStatus {
        let exists = try connection.queryValue(
            Bool.self, "SELECT to_regclass('schema_migrations') IS NOT NULL")
        var applied: [AppliedMigration] = []
        if exists {
            let rows = try connection.query("""
                SELECT version, name, checksum, applied_at, execution_ms
                FROM schema_migrations ORDER BY version
                """)
            for row in rows {
                applied.append(AppliedMigration(
                    version: try row.decode(Int.self, "version"),
                    name: try row.decode(String.self, "name"),
                    checksum: try row.decode(String.self, "checksum"),
                    appliedAt: try row.decode(Date.self, "applied_at"),
                    executionMilliseconds: try row.decode(Int.self, "execution_ms")))
            }
        }
        let byVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        let files = Set(migrations.map(\.version))
        return MigrationStatus(
            applied: applied,
            pending: migrations.filter { byVersion[$0.version] == nil },
            changed: migrations.filter { m in byVersion[m.version].map { $0.checksum != m.checksum } ?? false },
            missing: applied.filter { !files.contains($0.version) })
    }

    /// Applies every pending migration in version order, each in its own transaction, holding
    /// the migration advisory lock. With `dryRun`, changes nothing and reports what it would
    /// apply. `willApply` is called before each migration runs.
    @discardableResult
    public func migrate(on connection: PostgresConnection, dryRun: Bool = false,
                        willApply: (Migration) -> Void = { _ in }) throws -> MigrationReport {
        if dryRun {
            let status = try status(on: connection)
            try refuseChanged(status)
            return MigrationReport(applied: status.pending.map { .init(migration: $0, milliseconds: 0) },
                                   alreadyApplied: status.applied.count, dryRun: true,
                                   currentVersion: status.currentVersion)
        }
        return try connection.withAdvisoryLock(Self.advisoryLockKey) {
            try connection.execute(unsafeSQL: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version      integer PRIMARY KEY,
                    name         text NOT NULL,
                    checksum     char(64) NOT NULL,
                    applied_at   timestamptz NOT NULL DEFAULT now(),
                    applied_by   text NOT NULL DEFAULT current_user,
                    execution_ms integer NOT NULL
                )
                """)
            let status = try status(on: connection)
            try refuseChanged(status)
            var steps: [MigrationReport.Step] = []
            for migration in status.pending {
                willApply(migration)
                let started = ContinuousClock.now
                try connection.transaction { db in
                    do {
                        try db.execute(unsafeSQL: migration.sql)
                    } catch var error as PostgresError {
                        error.code = .migrationFailed
                        error.operation = "migration \(migration.fileName)"
                            + (error.position.map { " line \(Self.line(of: $0, in: migration.sql))" } ?? "")
                        error.statement = nil
                        throw error
                    }
                    let elapsed = ContinuousClock.now - started
                    try db.execute("""
                        INSERT INTO schema_migrations (version, name, checksum, execution_ms)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum),
                                \(Int(PostgresConnection.milliseconds(elapsed))))
                        """)
                }
                let elapsed = ContinuousClock.now - started
                steps.append(.init(migration: migration, milliseconds: Int(PostgresConnection.milliseconds(elapsed))))
            }
            return MigrationReport(applied: steps, alreadyApplied: status.applied.count, dryRun: false,
                                   currentVersion: max(status.currentVersion, steps.map(\.migration.version).max() ?? 0))
        }
    }

    private func refuseChanged(_ status: MigrationStatus) throws {
        guard !status.changed.isEmpty else { return }
        let recorded = Dictionary(uniqueKeysWithValues: status.applied.map { ($0.version, $0.checksum) })
        let list = status.changed.map { m in
            "\(m.fileName) (applied \(recorded[m.version]?.prefix(12) ?? "?"), file now \(m.checksum.prefix(12)))"
        }
        throw PostgresError(code: .migrationChanged,
                            message: "applied migrations have changed since they ran: "
                                + list.joined(separator: ", ")
                                + "; write a new migration instead of editing an applied one")
    }

    /// The 1-based line of a 1-based character position in `text`.
    static func line(of position: Int, in text: String) -> Int {
        1 + text.prefix(max(0, position - 1)).reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
    }
}
