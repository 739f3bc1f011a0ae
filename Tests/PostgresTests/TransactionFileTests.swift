import Foundation
import Postgres
import Testing
import TestSupport
import TransactionFormat

@Suite("Transaction files")
struct TransactionFileTests {
    static let columns = ["multiframeID", "seqNum", "ra", "dec", "mag", "name"]

    static func write(_ dir: URL, rows: Int = 5000) throws -> (TransactionManifest, URL) {
        try TransactionFile.write(to: dir, table: "txtest", columns: columns, writer: "test") { w in
            for i in 0..<rows {
                try w.beginRow(fieldCount: columns.count)
                w.write(Int64(7))
                w.write(Int32(i))
                w.write(150.0 + Double(i) * 1e-5)
                w.write(2.0 - Double(i) * 1e-5)
                w.write(i % 10 == 0 ? nil : Float(i % 20) + 0.5)
                w.write("src \(i) ‘quoted’")
            }
        }
    }

    static func expectInvalid(_ data: URL, _ manifest: TransactionManifest, _ phrase: String) {
        do {
            try TransactionFile.verify(data, against: manifest)
            Issue.record("a damaged transaction file passed verification (\(phrase))")
        } catch let e as TransactionFileError {
            #expect(e.code == .invalid)
            #expect(e.description.contains(data.path), "\(e)")
            #expect(e.description.contains(phrase), "\(e)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a written file is named by its checksum and verifies")
    func roundTrip() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (manifest, data) = try Self.write(dir)
        #expect(manifest.rowCount == 5000)
        #expect(data.lastPathComponent == "\(manifest.sha256).pgcopy")
        #expect(manifest.sha256 == SHA256.hash(try Data(contentsOf: data)).hexString)
        #expect(try TransactionFile.manifest(for: data) == manifest)
        try TransactionFile.verify(data, against: manifest)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".part") }
        #expect(leftovers.isEmpty)
    }

    @Test("tampered files are refused with the file and the problem named")
    func tampering() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (manifest, data) = try Self.write(dir)
        let original = try Data(contentsOf: data)

        var flipped = original
        flipped[original.count / 2] ^= 0x01
        try flipped.write(to: data)
        Self.expectInvalid(data, manifest, "SHA-256")

        try original.prefix(original.count - 100).write(to: data)
        Self.expectInvalid(data, manifest, "truncated")

        try (original + Data([0])).write(to: data)
        Self.expectInvalid(data, manifest, "after the trailer")

        try original.write(to: data)
        var rows = manifest
        rows.rowCount += 1
        Self.expectInvalid(data, rows, "rows, the manifest says")

        var columns = manifest
        columns.columns.removeLast()
        Self.expectInvalid(data, columns, "fields, the manifest names 5 columns")

        var header = original
        header[0] = UInt8(ascii: "X")
        try header.write(to: data)
        Self.expectInvalid(data, manifest, "signature")
    }

    @Test("a verified file COPYs exactly its rows", .enabled(if: TestEnvironment.hasDatabase))
    func loads() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (manifest, data) = try Self.write(dir, rows: 20000)
        try TransactionFile.verify(data, against: manifest)
        try withFreshConnection("txfile") { db, _ in
            try db.execute(unsafeSQL: """
                CREATE TABLE txtest (multiframeID bigint, seqNum integer, ra double precision,
                                     dec double precision, mag real, name text)
                """)
            let copied = try db.copyIn(into: manifest.table, columns: manifest.columns,
                                       format: .binary, contentsOf: data.path)
            #expect(copied == manifest.rowCount)
            let row = try #require(try db.query(
                "SELECT count(*), count(mag), sum(seqNum), max(name) FROM txtest", []).first)
            #expect(try row.decode(Int64.self, at: 0) == 20000)
            #expect(try row.decode(Int64.self, at: 1) == 18000)
            #expect(try row.decode(Int64.self, at: 2) == Int64(19999 * 20000 / 2))
            #expect(try row.decode(String.self, at: 3) == "src 9999 ‘quoted’")
        }
    }
}
