import Foundation
import Postgres
import Testing
import TestSupport
import TransactionFormat
import SystemSupport

/// A detection-like row: the mix of types a catalogue load writes, with NULLs.
struct DetectionRow {
    var multiframeID: Int64
    var extNum: Int16
    var seqNum: Int32
    var ra: Double
    var dec: Double
    var x: Float
    var y: Float
    var flux: Float
    var mag: Float?
    var cls: Int16
    var errBits: Int32
    var objID: Int64?
    var flag: Bool
    var name: String?
    var blob: [UInt8]?

    static let columns = ["multiframeID", "extNum", "seqNum", "ra", "dec", "x", "y", "flux", "mag",
                          "class", "errBits", "objID", "flag", "name", "blob"]

    static let createTable = """
        CREATE TABLE det (
            multiframeID bigint NOT NULL, extNum smallint NOT NULL, seqNum integer NOT NULL,
            ra double precision NOT NULL, dec double precision NOT NULL, x real NOT NULL, y real NOT NULL,
            flux real NOT NULL, mag real, class smallint NOT NULL, errBits integer NOT NULL, objID bigint,
            flag boolean NOT NULL, name text, blob bytea,
            PRIMARY KEY (multiframeID, extNum, seqNum));
        CREATE FUNCTION nv(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN b IS NULL THEN '\\x00'::bytea
                        ELSE '\\x01'::bytea || int4send(octet_length(b)) || b END $$;
        """

    /// The bytes of one row as the SQL checksum expression below builds them.
    static let checksumSQL = """
        int8send(multiframeID) || int2send(extNum) || int4send(seqNum) || float8send(ra)
        || float8send(dec) || float4send(x) || float4send(y) || float4send(flux) || nv(float4send(mag))
        || int2send(class) || int4send(errBits) || nv(int8send(objID)) || boolsend(flag)
        || nv(convert_to(name, 'UTF8')) || nv(blob)
        """

    func appendChecksumBytes(to out: inout [UInt8]) {
        func be<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        func nv(_ bytes: [UInt8]?) {
            guard let bytes else { out.append(0); return }
            out.append(1)
            be(Int32(bytes.count))
            out.append(contentsOf: bytes)
        }
        be(multiframeID); be(extNum); be(seqNum); be(ra.bitPattern); be(dec.bitPattern)
        be(x.bitPattern); be(y.bitPattern); be(flux.bitPattern)
        nv(mag.map { withUnsafeBytes(of: $0.bitPattern.bigEndian) { Array($0) } })
        be(cls); be(errBits)
        nv(objID.map { withUnsafeBytes(of: $0.bigEndian) { Array($0) } })
        out.append(flag ? 1 : 0)
        nv(name.map { Array($0.utf8) })
        nv(blob)
    }

    static func generate(count: Int, seed: UInt64) -> [DetectionRow] {
        var rng = SplitMix64(seed: seed)
        let specials: [Float] = [.nan, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let classes: [Int16] = [-9, -3, -2, -1, 0, 1]
        return (0..<count).map { i in
            DetectionRow(
                multiframeID: 1000 + Int64(i / 4000),
                extNum: Int16(1 + (i / 1000) % 4),
                seqNum: Int32(i),
                ra: Double.random(in: 0..<360, using: &rng),
                dec: Double.random(in: -90...90, using: &rng),
                x: Float.random(in: 1...2048, using: &rng),
                y: Float.random(in: 1...2048, using: &rng),
                flux: i % 997 == 0 ? specials[(i / 997) % specials.count] : Float.random(in: -100...1e6, using: &rng),
                mag: i % 7 == 0 ? nil : Float.random(in: 10...25, using: &rng),
                cls: classes[i % classes.count],
                errBits: Int32.random(in: 0..<(1 << 20), using: &rng),
                objID: i % 13 == 0 ? nil : (i == 1 ? .min : i == 2 ? .max : Int64.random(in: .min ... .max, using: &rng)),
                flag: Bool.random(using: &rng),
                name: i % 11 == 0 ? nil : (i % 5 == 0 ? "" : "det-\(i) O'Brien \"q\" Ω 日本 🚀"),
                blob: i % 17 == 0 ? nil : (0..<(i % 9)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
    }

    func write(to writer: PostgresBinaryCopyWriter) throws {
        try writer.beginRow(fieldCount: 15)
        writer.write(multiframeID)
        writer.write(extNum)
        writer.write(seqNum)
        writer.write(ra)
        writer.write(dec)
        writer.write(x)
        writer.write(y)
        writer.write(flux)
        writer.write(mag)
        writer.write(cls)
        writer.write(errBits)
        writer.write(objID)
        writer.write(flag)
        writer.write(name)
        writer.write(blob)
    }
}

func sameBits(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

@Suite("Binary COPY")
struct CopyTests {
    @Test("100 000 detection-like rows land exactly", .enabled(if: TestEnvironment.hasDatabase))
    func copyDetectionRows() throws {
        let rows = DetectionRow.generate(count: 100_000, seed: 42)
        try withFreshConnection("copy") { db, _ in
            try db.execute(unsafeSQL: DetectionRow.createTable)

            let start = ContinuousClock.now
            let copied = try db.copyBinary(into: "det", columns: DetectionRow.columns) { writer in
                for row in rows { try row.write(to: writer) }
            }
            let elapsed = ContinuousClock.now - start
            #expect(copied == rows.count)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("binary COPY: \(rows.count) detection-like rows (15 columns) in "
                  + String(format: "%.3f s = %.0f rows/s", seconds, Double(rows.count) / seconds))

            var bytes: [UInt8] = []
            for row in rows { row.appendChecksumBytes(to: &bytes) }
            let expectedChecksum = SHA256.hash(bytes).hexString

            let summary = try #require(try db.query("""
                SELECT count(*) AS n, count(mag) AS mags, count(objID) AS objids, count(name) AS names,
                       count(blob) AS blobs, sum(seqNum) AS seqsum, sum(extNum) AS extsum,
                       sum(errBits) AS errsum, count(*) FILTER (WHERE flag) AS flags,
                       encode(sha256(string_agg(\(unsafeSQL: DetectionRow.checksumSQL), ''::bytea
                                                ORDER BY seqNum)), 'hex') AS checksum
                FROM det
                """).first)
            #expect(try summary.decode(Int.self, "n") == rows.count)
            #expect(try summary.decode(Int.self, "mags") == rows.filter { $0.mag != nil }.count)
            #expect(try summary.decode(Int.self, "objids") == rows.filter { $0.objID != nil }.count)
            #expect(try summary.decode(Int.self, "names") == rows.filter { $0.name != nil }.count)
            #expect(try summary.decode(Int.self, "blobs") == rows.filter { $0.blob != nil }.count)
            #expect(try summary.decode(Int64.self, "seqsum") == rows.reduce(0) { $0 + Int64($1.seqNum) })
            #expect(try summary.decode(Int64.self, "extsum") == rows.reduce(0) { $0 + Int64($1.extNum) })
            #expect(try summary.decode(Int64.self, "errsum") == rows.reduce(0) { $0 + Int64($1.errBits) })
            #expect(try summary.decode(Int.self, "flags") == rows.filter(\.flag).count)
            #expect(try summary.decode(String.self, "checksum") == expectedChecksum)

            for seq in [0, 1, 2, 7, 997, 1994, 12_345, 99_999] {
                let expected = rows[seq]
                let row = try #require(try db.query("SELECT * FROM det WHERE seqNum = \(Int32(seq))").first)
                #expect(try row.decode(Int64.self, "multiframeID") == expected.multiframeID)
                #expect(try row.decode(Int16.self, "extNum") == expected.extNum)
                #expect(try row.decode(Double.self, "ra") == expected.ra)
                #expect(try row.decode(Double.self, "dec") == expected.dec)
                #expect(try row.decode(Float.self, "x") == expected.x)
                #expect(sameBits(try row.decode(Float.self, "flux"), expected.flux))
                #expect(try row.decode(Float?.self, "mag") == expected.mag)
                #expect(try row.decode(Int16.self, "class") == expected.cls)
                #expect(try row.decode(Int32.self, "errBits") == expected.errBits)
                #expect(try row.decode(Int64?.self, "objID") == expected.objID)
                #expect(try row.decode(Bool.self, "flag") == expected.flag)
                #expect(try row.decode(String?.self, "name") == expected.name)
                #expect(try row.decode([UInt8]?.self, "blob") == expected.blob)
            }
        }
    }

    @Test("a transaction file of binary COPY data streams in", .enabled(if: TestEnvironment.hasDatabase))
    func copyFromFile() throws {
        let rows = DetectionRow.generate(count: 5_000, seed: 7)
        let dir = try TestEnvironment.temporaryDirectory("pgcopy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("det.pgcopy").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let writer = PostgresBinaryCopyWriter(bufferSize: 4096) { file.write(Data($0)) }
        for row in rows { try row.write(to: writer) }
        #expect(try writer.finish() == rows.count)
        try file.close()

        try withFreshConnection("copyfile") { db, _ in
            try db.execute(unsafeSQL: DetectionRow.createTable)
            let copied = try db.copyIn(into: "det", columns: DetectionRow.columns, contentsOf: path)
            #expect(copied == rows.count)
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM det WHERE name IS NULL")
                    == rows.filter { $0.name == nil }.count)

            // The same bytes sent through the raw stream API in odd-sized pieces.
            try db.execute("TRUNCATE det", [])
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let raw = try db.copyIn(into: "det", columns: DetectionRow.columns) { stream in
                var offset = 0
                while offset < data.count {
                    let n = min(777, data.count - offset)
                    try stream.send(Array(data[offset..<offset + n]))
                    offset += n
                }
            }
            #expect(raw == rows.count)

            // A truncated file is refused as a whole, with the server's SQLSTATE.
            try db.execute("TRUNCATE det", [])
            let truncated = Array(data.prefix(data.count / 2))
            let error = #expect(throws: PostgresError.self) {
                try db.copyIn(into: "det", columns: DetectionRow.columns) { try $0.send(truncated) }
            }
            #expect(error?.code == .copyFailed)
            #expect(error?.sqlState == SQLState.badCopyFileFormat)
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM det") == 0)
            #expect(try db.queryValue(Int.self, "SELECT 1") == 1)
        }
    }

    @Test("a failing COPY body copies nothing and leaves the connection usable",
          .enabled(if: TestEnvironment.hasDatabase))
    func abortedCopy() throws {
        struct Stop: Error {}
        try withFreshConnection("copyabort") { db, _ in
            try db.execute(unsafeSQL: DetectionRow.createTable)
            let rows = DetectionRow.generate(count: 3_000, seed: 3)
            #expect(throws: Stop.self) {
                try db.copyBinary(into: "det", columns: DetectionRow.columns) { writer in
                    for (i, row) in rows.enumerated() {
                        if i == 2_000 { throw Stop() }
                        try row.write(to: writer)
                    }
                }
            }
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM det") == 0)

            // A type mismatch (Int32 into bigint) is the server's error, not a crash.
            let error = #expect(throws: PostgresError.self) {
                try db.copyBinary(into: "det", columns: ["multiframeID", "extNum", "seqNum"]) { w in
                    try w.beginRow(fieldCount: 3)
                    w.write(Int32(1)); w.write(Int16(1)); w.write(Int32(1))
                }
            }
            #expect(error?.code == .copyFailed)
            #expect(error?.sqlState != nil)

            // A duplicate key inside a COPY.
            let dup = #expect(throws: PostgresError.self) {
                try db.copyBinary(into: "det", columns: DetectionRow.columns) { w in
                    try rows[0].write(to: w)
                    try rows[0].write(to: w)
                }
            }
            #expect(dup?.sqlState == SQLState.uniqueViolation)
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM det") == 0)

            // Table names are validated identifiers, never SQL.
            #expect(throws: PostgresError.self) {
                try db.copyBinary(into: "det; DROP TABLE det", columns: ["x"]) { _ in }
            }
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM det") == 0)
        }
    }

    @Test("rows in the WSA lasDetection layout load", .enabled(if: TestEnvironment.hasDatabase))
    func copyIntoDetectionTable() throws {
        let sqlDirectory = TestEnvironment.packageRoot.appendingPathComponent("sql")
        try withFreshConnection("copylas") { db, _ in
            try SchemaMigrator(directory: sqlDirectory).migrate(on: db)
            let layout = try db.query("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_name = 'lasdetection' ORDER BY ordinal_position
                """).map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            #expect(layout.count == 108)  // CASU's 80 columns as the WSA spells them, keys, cx, cy, cz, l, b (0006)
            enum Kind { case int16, int32, int64, float32, float64 }
            let kinds: [Kind] = try layout.map { name, type in
                switch type {
                case "smallint": return .int16
                case "integer": return .int32
                case "bigint": return .int64
                case "real": return .float32
                case "double precision": return .float64
                default: throw PostgresError(code: .invalidArgument, message: "unexpected type \(type) of \(name)")
                }
            }
            let count = 50_000
            let start = ContinuousClock.now
            let copied = try db.copyBinary(into: "lasDetection", columns: layout.map(\.0)) { w in
                for i in 0..<count {
                    try w.beginRow(fieldCount: kinds.count)
                    for (c, kind) in kinds.enumerated() {
                        switch (c, kind) {
                        case (0, _): w.write(Int64(1 + i / 10_000))
                        case (1, _): w.write(Int16(1 + (i / 2_500) % 4))
                        case (2, _): w.write(Int32(i))
                        case (_, .int16): w.write(Int16(truncatingIfNeeded: i % 7))
                        case (_, .int32): w.write(Int32(i))
                        case (_, .int64): w.write(Int64(i) * 1_000_003)
                        case (_, .float32): w.write(Float(i % 4096) * 0.25)
                        case (_, .float64): w.write(Double(i % 360) + 0.5)
                        }
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("binary COPY: \(count) lasDetection rows (103 columns, with PK and q3c index) in "
                  + String(format: "%.3f s = %.0f rows/s", seconds, Double(count) / seconds))
            #expect(copied == count)
            #expect(try db.queryValue(Int.self, "SELECT count(*) FROM lasDetection WHERE q3c_radial_query(ra, dec, 10.5, 10.5, 0.1)") > 0)
        }
    }

    @Test("the writer emits the PGCOPY layout byte for byte")
    func writerLayout() throws {
        var out: [UInt8] = []
        let writer = PostgresBinaryCopyWriter(bufferSize: 4096) { out.append(contentsOf: $0) }
        try writer.beginRow(fieldCount: 4)
        writer.write(Int32(5))
        writer.write(Int16?.none)
        writer.write("é")
        writer.write(true)
        #expect(try writer.finish() == 1)
        let header: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00,
                               0, 0, 0, 0, 0, 0, 0, 0]
        let row: [UInt8] = [0, 4, 0, 0, 0, 4, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF,
                            0, 0, 0, 2, 0xC3, 0xA9, 0, 0, 0, 1, 1]
        #expect(out == header + row + [0xFF, 0xFF])
    }

    @Test("the writer splits across buffers and refuses a wrong field count")
    func writerBuffers() throws {
        var chunks: [Int] = []
        var out: [UInt8] = []
        let writer = PostgresBinaryCopyWriter(bufferSize: 4096) { chunks.append($0.count); out.append(contentsOf: $0) }
        let big = String(repeating: "x", count: 10_000)
        for i in 0..<1_000 {
            try writer.beginRow(fieldCount: 2)
            writer.write(Int64(i))
            writer.write(i == 500 ? big : "r\(i)")
        }
        try writer.finish()
        #expect(chunks.count > 2)
        #expect(chunks.allSatisfy { $0 <= 10_004 })
        #expect(out.count == writer.byteCount)
        var textBytes = 0
        for i in 0..<1_000 { textBytes += i == 500 ? 10_000 : "r\(i)".utf8.count }
        let expectedSize = 19 + 2 + 1_000 * (2 + 12 + 4) + textBytes
        #expect(out.count == expectedSize)

        let bad = PostgresBinaryCopyWriter { _ in }
        try bad.beginRow(fieldCount: 3)
        bad.write(Int32(1))
        let error = #expect(throws: TransactionFileError.self) { try bad.beginRow(fieldCount: 3) }
        #expect(error?.code == .copyFailed)
    }
}
