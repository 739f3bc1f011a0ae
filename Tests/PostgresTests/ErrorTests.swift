import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Errors and transactions")
struct ErrorTests {
    @Test("failed statements carry the server's SQLSTATE", .enabled(if: TestEnvironment.hasDatabase))
    func sqlStates() throws {
        try withFreshConnection("errors") { db, _ in
            try db.execute(unsafeSQL: "CREATE TABLE u (id integer PRIMARY KEY, v text NOT NULL)")
            try db.execute("INSERT INTO u VALUES (\(1), \("one"))")

            let duplicate = #expect(throws: PostgresError.self) {
                try db.execute("INSERT INTO u VALUES (\(1), \("again"))")
            }
            #expect(duplicate?.code == .queryFailed)
            #expect(duplicate?.sqlState == SQLState.uniqueViolation)
            #expect(duplicate?.constraintName == "u_pkey")
            #expect(duplicate?.tableName == "u")
            #expect(duplicate?.detail?.contains("(id)=(1)") == true)
            #expect(duplicate?.description.contains("duplicate key") == true)
            #expect(duplicate?.description.contains("23505") == true)
            #expect(duplicate?.debugDescription.contains("INSERT INTO u VALUES ($1, $2)") == true)

            let undefined = #expect(throws: PostgresError.self) { try db.query("SELECT * FROM nosuchtable") }
            #expect(undefined?.sqlState == SQLState.undefinedTable)
            #expect(undefined?.position == 15)

            let notNull = #expect(throws: PostgresError.self) {
                try db.execute("INSERT INTO u VALUES ($1, $2)", [.int32(2), nil])
            }
            #expect(notNull?.sqlState == SQLState.notNullViolation)
            #expect(notNull?.columnName == "v")

            let syntax = #expect(throws: PostgresError.self) { try db.execute(unsafeSQL: "SELEC 1") }
            #expect(syntax?.sqlState == SQLState.syntaxError)

            let decode = #expect(throws: PostgresError.self) { try db.queryValue(Int.self, "SELECT 'abc'::text") }
            #expect(decode?.code == .decodingFailed)

            let noRows = #expect(throws: PostgresError.self) { try db.queryValue(Int.self, "SELECT 1 WHERE false") }
            #expect(noRows?.code == .unexpectedResult)

            // The connection is still fine after all of that.
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM u") == 1)
        }
    }

    @Test("the transaction helper commits, rolls back on throw, and nests with savepoints",
          .enabled(if: TestEnvironment.hasDatabase))
    func transactions() throws {
        try withFreshConnection("txn") { db, _ in
            try db.execute(unsafeSQL: "CREATE TABLE u (id integer PRIMARY KEY)")
            func ids() throws -> [Int] { try db.query("SELECT id FROM u ORDER BY id").map { try $0.decode(Int.self, at: 0) } }

            try db.transaction { tx in
                try tx.execute("INSERT INTO u VALUES (\(1))")
                try tx.execute("INSERT INTO u VALUES (\(2))")
            }
            #expect(try ids() == [1, 2])

            let error = #expect(throws: PostgresError.self) {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO u VALUES (\(3))")
                    try tx.execute("INSERT INTO u VALUES (\(1))")  // duplicate
                }
            }
            #expect(error?.sqlState == SQLState.uniqueViolation)
            #expect(try ids() == [1, 2])
            #expect(db.transactionStatus == .idle)

            struct Abandon: Error {}
            #expect(throws: Abandon.self) {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO u VALUES (\(4))")
                    throw Abandon()
                }
            }
            #expect(try ids() == [1, 2])

            // An inner failure rolls back only the inner work.
            try db.transaction { tx in
                try tx.execute("INSERT INTO u VALUES (\(5))")
                #expect(throws: PostgresError.self) {
                    try tx.transaction { inner in
                        try inner.execute("INSERT INTO u VALUES (\(6))")
                        try inner.execute("INSERT INTO u VALUES (\(5))")
                    }
                }
                try tx.execute("INSERT INTO u VALUES (\(7))")
            }
            #expect(try ids() == [1, 2, 5, 7])

            // A swallowed error makes COMMIT a ROLLBACK, which is reported.
            let aborted = #expect(throws: PostgresError.self) {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO u VALUES (\(8))")
                    _ = try? tx.execute("INSERT INTO u VALUES (\(1))")
                }
            }
            #expect(aborted?.code == .transactionAborted)
            #expect(try ids() == [1, 2, 5, 7])

            let value = try db.transaction(isolation: .serializable, readOnly: true) { tx in
                try tx.queryValue(String.self, "SHOW transaction_isolation")
            }
            #expect(value == "serializable")
        }
    }

    @Test("connection failures are clear and never show the password")
    func connectionFailures() throws {
        let secret = "sekrit-pw-\(UUID().uuidString.prefix(6))"
        let attempts = [
            "host=127.0.0.1 port=1 user=wsa password=\(secret) dbname=wsa connect_timeout=3",
            "postgresql://wsa:\(secret)@127.0.0.1:1/wsa?connect_timeout=3",
            "password=\(secret) this-is-not-a-conninfo",
            "postgresql://wsa:\(secret)@127.0.0.1:notaport/wsa",
        ]
        for conninfo in attempts {
            let error = #expect(throws: PostgresError.self) { try PostgresConnection(conninfo) }
            #expect(error?.code == .connectionFailed)
            #expect(error?.description.contains(secret) == false)
            #expect(error?.debugDescription.contains(secret) == false)
            #expect(error?.description.contains("connect") == true || error?.description.contains("connection") == true)
        }
        let refused = #expect(throws: PostgresError.self) { try PostgresConnection(attempts[0]) }
        #expect(refused?.description.contains("Connection refused") == true)
    }

    @Test("a missing database is named in the error", .enabled(if: TestEnvironment.hasDatabase))
    func missingDatabase() throws {
        let conninfo = try TestDatabase.conninfo(database: "no_such_database_here") + " password=hunter2-x"
        let error = #expect(throws: PostgresError.self) { try PostgresConnection(conninfo) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("no_such_database_here") == true)
        #expect(error?.description.contains("hunter2-x") == false)
    }

    @Test("a closed connection says so")
    func closedConnection() throws {
        guard let url = TestEnvironment.databaseURL else { return }
        let db = try PostgresConnection(url)
        #expect(db.isOpen)
        db.close()
        db.close()
        #expect(!db.isOpen)
        let error = #expect(throws: PostgresError.self) { try db.query("SELECT 1") }
        #expect(error?.code == .connectionClosed)
    }
}
