import Foundation
@testable import Postgres
import Testing
import TestSupport
import TransactionFormat

@Suite("Without a database")
struct UnitTests {
    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256Vectors() {
        #expect(SHA256.hash(Array("".utf8)).hexString
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hexString
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hexString
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in uneven pieces gives the same digest as one update.
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var streamed = SHA256()
        var offset = 0, step = 1
        while offset < million.count {
            let n = min(step, million.count - offset)
            million[offset..<offset + n].withUnsafeBytes { streamed.update($0) }
            offset += n
            step = step * 3 % 997 + 1
        }
        #expect(streamed.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("migration file names")
    func migrationNames() {
        #expect(SchemaMigrator.parse("0001_core.sql")! == (1, "core"))
        #expect(SchemaMigrator.parse("0042_add-source_tables.sql")! == (42, "add-source_tables"))
        #expect(SchemaMigrator.parse("001_core.sql") == nil)
        #expect(SchemaMigrator.parse("0000_zero.sql") == nil)
        #expect(SchemaMigrator.parse("0001_.sql") == nil)
        #expect(SchemaMigrator.parse("core.sql") == nil)
        #expect(SchemaMigrator.line(of: 1, in: "a\nb\nc") == 1)
        #expect(SchemaMigrator.line(of: 3, in: "a\nb\nc") == 2)
        #expect(SchemaMigrator.line(of: 5, in: "a\nb\nc") == 3)
    }

    @Test("ISO timestamps decode to the right instant")
    func timestamps() {
        #expect(parseISOTimestamp("1970-01-01 00:00:00+00") == 0)
        #expect(parseISOTimestamp("2000-01-01") == 946_684_800)
        #expect(parseISOTimestamp("2005-10-12 21:03:04.5+00") == 1_129_150_984.5)
        #expect(parseISOTimestamp("2005-10-12 23:03:04.5+02") == 1_129_150_984.5)
        #expect(parseISOTimestamp("2005-10-12 17:33:04.5-03:30") == 1_129_150_984.5)
        #expect(parseISOTimestamp("1858-11-17 00:00:00") == -3_506_716_800)  // MJD 0
        #expect(parseISOTimestamp("infinity") == .infinity)
        #expect(parseISOTimestamp("2005-10-12 21:03") == nil)
        #expect(parseISOTimestamp("yesterday") == nil)
    }

    @Test("errors read well and hide nothing they should not show")
    func errorText() {
        var error = PostgresError(code: .queryFailed, message: "relation \"x\" does not exist",
                                  sqlState: "42P01", operation: "COPY x", statement: "COPY x FROM STDIN")
        error.hint = "create it first"
        #expect(error.description == "COPY x: relation \"x\" does not exist (SQLSTATE 42P01)")
        #expect(error.debugDescription.contains("hint: create it first"))
        #expect(error.debugDescription.contains("statement: COPY x FROM STDIN"))
        #expect(!error.description.contains("STDIN"))
        #expect(PostgresConnection.redactQuoted("missing \"=\" after \"hunter2\" in connection info string")
                == "missing \"…\" after \"…\" in connection info string")
        #expect(PostgresError.oneLine("connection failed: refused\n\tIs the server running?\n")
                == "connection failed: refused; Is the server running?")
    }

    @Test("parameters encode in binary, text as untyped text")
    func parameterEncoding() {
        let encoded = EncodedParameters([.int32(258), nil, .text("ab"), .float64(1), .bool(true)])
        #expect(encoded.types == [23, 0, 0, 701, 16])
        #expect(encoded.formats == [1, 0, 0, 1, 1])
        #expect(encoded.lengths == [4, 0, 2, 8, 1])
        #expect(encoded.offsets[1] == -1)
        #expect(Array(encoded.bytes[0..<4]) == [0, 0, 1, 2])
    }
}

@Suite("wsadb", .enabled(if: TestEnvironment.hasDatabase))
struct WSADBTests {
    var wsadb: String { TestEnvironment.productsDirectory.appendingPathComponent("wsadb").path }

    @Test("migrate, status and failures from the command line")
    func commandLine() throws {
        try #require(FileManager.default.isExecutableFile(atPath: wsadb), "build wsadb first (swift build)")
        let root = TestEnvironment.packageRoot.path
        let version = try runProcess(wsadb, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)

        try TestDatabase.withFresh(prefix: "wsadb") { conninfo in
            let pending = try runProcess(wsadb, ["status", "--check"], environment: ["WSA_DATABASE": conninfo],
                                         currentDirectory: root)
            #expect(pending.status == 3)
            #expect(pending.stdout.contains("pending  0001_core.sql"))

            let dry = try runProcess(wsadb, ["migrate", "--dry-run", "--database", conninfo], currentDirectory: root)
            #expect(dry.status == 0)
            #expect(dry.stdout.contains("would apply 0001_core.sql"))

            let migrate = try runProcess(wsadb, ["migrate", "--database", conninfo, "--sql-dir", root + "/sql"])
            #expect(migrate.status == 0, "\(migrate.stderr)")
            #expect(migrate.stdout.contains("applied 0001_core.sql"))
            #expect(migrate.stdout.split(separator: "\n").last?.hasPrefix("wsadb: applied") == true)

            let again = try runProcess(wsadb, ["migrate", "--database", conninfo], currentDirectory: root)
            #expect(again.stdout.contains("applied 0 migrations"))
            let status = try runProcess(wsadb, ["status", "--check", "--database", conninfo], currentDirectory: root)
            #expect(status.status == 0)
            #expect(status.stdout.contains("applied  0001_core.sql"))
        }

        let refused = try runProcess(wsadb, ["status", "--database", "host=127.0.0.1 port=1 password=pw-xyzzy"],
                                     currentDirectory: root)
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("wsadb: cannot connect to PostgreSQL"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(!refused.stderr.contains("pw-xyzzy"))

        let badConfig = try runProcess(wsadb, ["migrate", "--config", "/nonexistent/wsa.toml"],
                                       environment: ["WSA_DATABASE": ""], currentDirectory: root)
        #expect(badConfig.status == 64)
        #expect(badConfig.stderr.contains("/nonexistent/wsa.toml"))
    }
}

@Test("libpq is PostgreSQL 15 or later, and thread-safe")
func libraryVersion() {
    #expect(PostgresLibrary.version >= 150_000)
    #expect(PostgresLibrary.isThreadSafe)
}
