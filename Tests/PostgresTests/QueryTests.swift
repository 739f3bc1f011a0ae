import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Parameterised queries", .enabled(if: TestEnvironment.hasDatabase))
struct QueryTests {
    @Test("every supported type round-trips through bind parameters")
    func roundTrips() throws {
        try withFreshConnection("query") { db, _ in
            let date = Date(timeIntervalSince1970: 1_129_150_984.123456)  // 2005-10-12 21:03:04.123456 UTC
            let row = try #require(try db.query("""
                SELECT $1::boolean AS b, $2::smallint AS i16, $3::integer AS i32, $4::bigint AS i64,
                       $5::real AS f32, $6::double precision AS f64, $7::text AS t, $8::bytea AS bytes,
                       $9::timestamptz AS ts, $10::text AS nothing, $11::date AS day
                """, [.bool(true), .int16(.min), .int32(.max), .int64(.min), .float32(1.1),
                      .float64(.pi), .text("O'Brien \"x\" \\ ; -- Ω 日本語 🚀"),
                      .bytes([0, 1, 0xFF, 0x27, 0x5C]), .timestamp(date), nil, .text("2005-10-12")]).first)
            #expect(try row.decode(Bool.self, "b") == true)
            #expect(try row.decode(Int16.self, "i16") == .min)
            #expect(try row.decode(Int32.self, "i32") == .max)
            #expect(try row.decode(Int64.self, "i64") == .min)
            #expect(try row.decode(Float.self, "f32") == 1.1)
            #expect(try row.decode(Double.self, "f64") == .pi)
            #expect(try row.decode(String.self, "t") == "O'Brien \"x\" \\ ; -- Ω 日本語 🚀")
            #expect(try row.decode([UInt8].self, "bytes") == [0, 1, 0xFF, 0x27, 0x5C])
            let back = try row.decode(Date.self, "ts")
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6)
            #expect(try row.decode(String?.self, "nothing") == nil)
            #expect(row.isNull(at: 9))
            #expect(try row.decode(Date.self, "day") == Date(timeIntervalSince1970: 1_129_075_200))
            // By index too, and NULL refuses a non-optional type.
            #expect(try row.decode(Int16.self, at: 1) == .min)
            let nullError = #expect(throws: PostgresError.self) { try row.decode(String.self, "nothing") }
            #expect(nullError?.code == .decodingFailed)
            let missing = #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
            #expect(missing?.code == .columnNotFound)
        }
    }

    @Test("extreme and special values survive exactly")
    func specialValues() throws {
        try withFreshConnection("special") { db, _ in
            try db.execute(unsafeSQL: """
                CREATE TABLE v (id integer PRIMARY KEY, f4 real, f8 double precision, i2 smallint,
                                i8 bigint, t varchar(64), b bytea, ok boolean)
                """)
            let doubles: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                     .greatestFiniteMagnitude, 1e-300, -0.9999995e9, 0.1 + 0.2]
            let floats: [Float] = [0, -0.0, .infinity, .nan, .leastNonzeroMagnitude, 3.4e38, -0.9999995e9, 0.1]
            for (i, d) in doubles.enumerated() {
                let f = floats[i % floats.count]
                let text: String? = i % 3 == 0 ? nil : (i % 3 == 1 ? "" : "x'); DROP TABLE v; --")
                try db.execute("""
                    INSERT INTO v VALUES (\(i), \(f), \(d), \(Int16(i - 5)), \(Int64.max - Int64(i)),
                                          \(text), \(i == 2 ? [UInt8]() : [UInt8(i)]), \(i % 2 == 0))
                    """)
            }
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM v") == doubles.count)
            for row in try db.query("SELECT * FROM v ORDER BY id") {
                let i = try row.decode(Int.self, "id")
                let d = try row.decode(Double.self, "f8"), f = try row.decode(Float.self, "f4")
                #expect(doubles[i].isNaN ? d.isNaN : d.bitPattern == doubles[i].bitPattern)
                #expect(sameBits(f, floats[i % floats.count]))
                #expect(try row.decode(Int16.self, "i2") == Int16(i - 5))
                #expect(try row.decode(Int64.self, "i8") == Int64.max - Int64(i))
                #expect(try row.decode(String?.self, "t") == (i % 3 == 0 ? nil : (i % 3 == 1 ? "" : "x'); DROP TABLE v; --")))
                #expect(try row.decode([UInt8].self, "b") == (i == 2 ? [] : [UInt8(i)]))
                #expect(try row.decode(Bool.self, "ok") == (i % 2 == 0))
            }
        }
    }

    @Test("interpolation binds values; identifiers are validated")
    func interpolation() throws {
        let name = "lasDetection'; --"
        let q: PostgresQuery = "SELECT * FROM programme WHERE name = \(name) AND programmeID > \(100)"
        #expect(q.sql == "SELECT * FROM programme WHERE name = $1 AND programmeID > $2")
        #expect(q.binds == [.text(name), .int64(100)])
        let none: Int32? = nil
        let table = try PostgresIdentifier("public.lasDetection")
        let q2: PostgresQuery = "SELECT count(*) FROM \(identifier: table) WHERE objID = \(none)"
        #expect(q2.sql == "SELECT count(*) FROM public.lasDetection WHERE objID = $1")
        #expect(q2.binds == [nil])
        for bad in ["", "a b", "x;drop", "\"quoted\"", "1abc", "a.b.c", String(repeating: "a", count: 64)] {
            #expect(throws: PostgresError.self) { try PostgresIdentifier(bad) }
        }
    }

    @Test("statements report affected rows; settings and notices work")
    func executeAndSettings() throws {
        try withFreshConnection("exec") { db, _ in
            try db.execute(unsafeSQL: "CREATE TABLE t (id integer PRIMARY KEY, v text)")
            #expect(try db.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, \(25)) g") == 25)
            #expect(try db.execute("UPDATE t SET v = \("w") WHERE id <= \(10)") == 10)
            #expect(try db.execute("DELETE FROM t WHERE id > $1", [.int32(20)]) == 5)
            #expect(try db.query("SELECT * FROM t ORDER BY id").map { try $0.decode(String.self, "v") }.prefix(2) == ["w", "w"])
            #expect(try db.parameter("TimeZone") == "UTC")
            #expect(try db.parameter("jit") == "off")
            try db.setStatementTimeout(.milliseconds(1500))
            #expect(try db.parameter("statement_timeout") == "1500ms")
            try db.setStatementTimeout(nil)
            #expect(try db.parameter("statement_timeout") == "0")

            final class Collected: @unchecked Sendable {
                let lock = NSLock()
                var messages: [String] = []
                func add(_ m: String) { lock.lock(); messages.append(m); lock.unlock() }
            }
            let collected = Collected()
            db.noticeHandler = { collected.add($0) }
            try db.execute(unsafeSQL: "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
            #expect(collected.messages.contains { $0.contains("hello 42") })
        }
    }

    @Test("a long statement can be cancelled from another thread")
    func cancel() async throws {
        try TestDatabase.withFresh(prefix: "cancel") { conninfo in
            let db = try PostgresConnection(conninfo)
            defer { db.close() }
            let handle = try db.makeCancelHandle()
            final class Flag: @unchecked Sendable {
                let lock = NSLock()
                var value = false
                func set() { lock.lock(); value = true; lock.unlock() }
                var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
            }
            let finished = Flag(), cancellerDone = DispatchSemaphore(value: 0)
            // A cancel that arrives before the statement starts is ignored by the server, so keep
            // cancelling (bounded) until the statement has ended. The canceller is an OS thread:
            // a task could starve while the tests block the cooperative pool's threads in libpq.
            let canceller = Thread {
                for _ in 0..<200 where !finished.isSet {
                    Thread.sleep(forTimeInterval: 0.1)
                    if !finished.isSet { try? handle.cancel() }
                }
                cancellerDone.signal()
            }
            canceller.start()
            let error = #expect(throws: PostgresError.self) {
                defer { finished.set() }
                try db.execute("SELECT pg_sleep(30)", [])
            }
            #expect(error?.sqlState == SQLState.queryCanceled)
            cancellerDone.wait()
            #expect(try db.queryValue(Int.self, "SELECT 7") == 7)
        }
    }
}
