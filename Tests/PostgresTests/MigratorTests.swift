import Foundation
import Postgres
import Testing
import TestSupport

private var sqlDirectory: URL { TestEnvironment.packageRoot.appendingPathComponent("sql") }

/// A copy of `sql/` (plus extra files) in a temporary directory, removed afterwards.
private func withMigrationsCopy<T>(extra: [String: String] = [:], _ body: (URL) throws -> T) throws -> T {
    let dir = try TestEnvironment.temporaryDirectory("migrations")
    defer { try? FileManager.default.removeItem(at: dir) }
    for name in try FileManager.default.contentsOfDirectory(atPath: sqlDirectory.path) where name.hasSuffix(".sql") {
        try FileManager.default.copyItem(at: sqlDirectory.appendingPathComponent(name),
                                         to: dir.appendingPathComponent(name))
    }
    for (name, text) in extra {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
    }
    return try body(dir)
}

@Suite("Schema migrations")
struct MigratorTests {
    @Test("sql/ applies to a fresh database, is recorded, and a second run applies nothing",
          .enabled(if: TestEnvironment.hasDatabase))
    func appliesOnce() throws {
        let migrator = try SchemaMigrator(directory: sqlDirectory)
        #expect(migrator.migrations.first?.fileName == "0001_core.sql")
        try withFreshConnection("migrate") { db, _ in
            let before = try migrator.status(on: db)
            #expect(before.applied.isEmpty)
            #expect(before.pending.count == migrator.migrations.count)

            let dry = try migrator.migrate(on: db, dryRun: true)
            #expect(dry.applied.count == migrator.migrations.count)
            #expect(try db.queryValue(Bool.self, "SELECT to_regclass('schema_migrations') IS NULL"))

            let first = try migrator.migrate(on: db)
            #expect(first.applied.map(\.migration.fileName) == migrator.migrations.map(\.fileName))
            #expect(first.currentVersion == migrator.migrations.last!.version)

            let recorded = try db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            #expect(recorded.count == migrator.migrations.count)
            for (row, m) in zip(recorded, migrator.migrations) {
                #expect(try row.decode(Int.self, "version") == m.version)
                #expect(try row.decode(String.self, "name") == m.name)
                #expect(try row.decode(String.self, "checksum") == m.checksum)
            }

            let second = try migrator.migrate(on: db)
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == migrator.migrations.count)
            let after = try migrator.status(on: db)
            #expect(after.pending.isEmpty && after.changed.isEmpty && after.missing.isEmpty)

            // q3c is there and works; the reference data is in place.
            #expect(try db.queryValue(Double.self, "SELECT q3c_dist(0, 0, 0, 1)") == 1)
            #expect(try db.queryValue(Bool.self, "SELECT q3c_join(10, 20, 10.0001, 20, 0.001)"))
            let programmes = try db.query("SELECT name, dfsIDString, detectionTable FROM Programme WHERE programmeID > 0 ORDER BY programmeID")
                .map { try $0.decode(String.self, "name") }
            #expect(programmes == ["LAS", "GPS", "GCS", "DXS", "UDS"])
            func filters(_ programme: String) throws -> [String] {
                try db.query("""
                    SELECT f.shortName FROM RequiredFilters r JOIN Filter f USING (filterID)
                    JOIN Programme p USING (programmeID) WHERE p.name = \(programme) ORDER BY f.filterID
                    """).map { try $0.decode(String.self, at: 0) }
            }
            #expect(try filters("LAS") == ["Y", "J", "H", "K"])
            #expect(try filters("GPS") == ["J", "H", "K", "H2"])
            #expect(try filters("GCS") == ["Z", "Y", "J", "H", "K"])
            #expect(try filters("DXS") == ["J", "K"])
            #expect(try filters("UDS") == ["J", "H", "K"])
            #expect(try db.queryValue(Double.self, "SELECT centralWavelength FROM Filter WHERE shortName = 'K'") == 2.2)
            for table in ["lasDetection", "gpsDetection", "gcsDetection", "dxsDetection", "udsDetection"] {
                let indexes = try db.queryValue(String.self,
                    "SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE tablename = lower(\(table))")
                #expect(indexes.contains("q3c_ang2ipix(ra, \"dec\")"), "\(table)")
            }
            // Null defaults as in the WSA.
            let cuEvent = try db.queryValue(Int.self, "INSERT INTO ProgrammeCurationHistory (cuID) VALUES (3) RETURNING cuEventID")
            let mf = try db.queryValue(Int64.self, """
                INSERT INTO Multiframe (fileName, frameType, filterID, cuEventID)
                VALUES ('/archive/w20051012_00001.fit', 'normal', 3, \(cuEvent)) RETURNING multiframeID
                """)
            let defaults = try #require(try db.query("SELECT expTime, msbID, obsNum, programmeID FROM Multiframe WHERE multiframeID = \(mf)").first)
            #expect(try defaults.decode(Float.self, "expTime") == -0.9999995e9)
            #expect(try defaults.decode(String.self, "msbID") == "NONE")
            #expect(try defaults.decode(Int.self, "obsNum") == -99999999)
            // The fencing token cannot go down.
            try db.execute("UPDATE CurationLock SET fencingToken = 5", [])
            #expect(throws: PostgresError.self) { try db.execute("UPDATE CurationLock SET fencingToken = 4", []) }
        }
    }

    @Test("an applied migration that changed is refused", .enabled(if: TestEnvironment.hasDatabase))
    func changedFileRefused() throws {
        try withMigrationsCopy { dir in
            try withFreshConnection("migchanged") { db, _ in
                try SchemaMigrator(directory: dir).migrate(on: db)
                let file = dir.appendingPathComponent("0001_core.sql")
                let text = try String(contentsOf: file, encoding: .utf8)
                try Data((text + "\n-- edited afterwards\n").utf8).write(to: file)
                try Data("CREATE TABLE later (id integer);\n".utf8).write(to: dir.appendingPathComponent("9001_later.sql"))

                let migrator = try SchemaMigrator(directory: dir)
                let status = try migrator.status(on: db)
                #expect(status.changed.map(\.fileName) == ["0001_core.sql"])
                let error = #expect(throws: PostgresError.self) { try migrator.migrate(on: db) }
                #expect(error?.code == .migrationChanged)
                #expect(error?.description.contains("0001_core.sql") == true)
                #expect(try db.queryValue(Bool.self, "SELECT to_regclass('later') IS NULL"))
                #expect(throws: PostgresError.self) { try migrator.migrate(on: db, dryRun: true) }
            }
        }
    }

    @Test("a failing migration rolls back alone and names its line", .enabled(if: TestEnvironment.hasDatabase))
    func failingMigration() throws {
        let bad = "CREATE TABLE half (id integer);\nINSERT INTO half VALUES (1);\nSELEC broken;\n"
        try withMigrationsCopy(extra: ["9001_good.sql": "CREATE TABLE good (id integer);\n",
                                       "9002_bad.sql": bad,
                                       "9003_after.sql": "CREATE TABLE after (id integer);\n"]) { dir in
            try withFreshConnection("migfail") { db, _ in
                let migrator = try SchemaMigrator(directory: dir)
                let error = #expect(throws: PostgresError.self) { try migrator.migrate(on: db) }
                #expect(error?.code == .migrationFailed)
                #expect(error?.sqlState == SQLState.syntaxError)
                #expect(error?.description.contains("9002_bad.sql line 3") == true)
                #expect(try db.queryValue(Bool.self, "SELECT to_regclass('good') IS NOT NULL"))
                #expect(try db.queryValue(Bool.self, "SELECT to_regclass('half') IS NULL"))
                #expect(try db.queryValue(Bool.self, "SELECT to_regclass('after') IS NULL"))
                #expect(try db.queryValue(Int.self, "SELECT max(version) FROM schema_migrations") == 9001)
                #expect(try db.tryAdvisoryLock(SchemaMigrator.advisoryLockKey))
                try db.advisoryUnlock(SchemaMigrator.advisoryLockKey)
            }
        }
    }

    @Test("concurrent migrators apply each migration once", .enabled(if: TestEnvironment.hasDatabase))
    func concurrentMigrators() throws {
        try TestDatabase.withFresh(prefix: "migconc") { conninfo in
            let migrator = try SchemaMigrator(directory: sqlDirectory)
            final class Results: @unchecked Sendable {
                let lock = NSLock()
                var counts: [Int] = []
                var errors: [String] = []
                func add(_ count: Int) { lock.lock(); counts.append(count); lock.unlock() }
                func fail(_ error: any Error) { lock.lock(); errors.append("\(error)"); lock.unlock() }
            }
            let results = Results()
            let group = DispatchGroup()
            for _ in 0..<3 {
                DispatchQueue.global().async(group: group) {
                    do {
                        let db = try PostgresConnection(conninfo)
                        defer { db.close() }
                        results.add(try migrator.migrate(on: db).applied.count)
                    } catch {
                        results.fail(error)
                    }
                }
            }
            group.wait()
            #expect(results.errors.isEmpty)
            #expect(results.counts.sorted() == [0, 0, migrator.migrations.count])
        }
    }

    @Test("badly named or duplicate migration files are refused")
    func invalidFiles() throws {
        for (files, fragment) in [(["001_short.sql": "select 1;"], "001_short.sql"),
                                  (["0001_a.sql": "select 1;", "0001_b.sql": "select 2;"], "two migrations"),
                                  (["0001_bad name.sql": "select 1;"], "0001_bad name.sql")] {
            let dir = try TestEnvironment.temporaryDirectory("badmig")
            defer { try? FileManager.default.removeItem(at: dir) }
            for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
            try Data("notes".utf8).write(to: dir.appendingPathComponent("README.md"))
            let error = #expect(throws: PostgresError.self) { try SchemaMigrator(directory: dir) }
            #expect(error?.code == .migrationInvalid)
            #expect(error?.description.contains(fragment) == true)
        }
    }

    @Test("our SHA-256 of a migration matches PostgreSQL's", .enabled(if: TestEnvironment.hasDatabase))
    func checksumMatchesServer() throws {
        let migrator = try SchemaMigrator(directory: sqlDirectory)
        try withFreshConnection("sha") { db, _ in
            for m in migrator.migrations {
                let server = try db.queryValue(String.self, "SELECT encode(sha256(convert_to(\(m.sql), 'UTF8')), 'hex')")
                #expect(server == m.checksum)
            }
        }
    }
}
