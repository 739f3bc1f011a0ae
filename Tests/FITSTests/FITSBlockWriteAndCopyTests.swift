import Foundation
import Testing
import TestSupport
@testable import FITS

@Suite struct FITSBlockWriteAndCopyTests {
    @Test func columnsWrittenInRowBlocksReadBack() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rows.fits").path
        let n = 100_000
        let f = try FITSFile.create(path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.createBinaryTable(columns: [
            FITSColumnSpec("ID", format: "1K"), FITSColumnSpec("RA", format: "1D", unit: "deg"),
            FITSColumnSpec("MAG", format: "1E", unit: "mag"), FITSColumnSpec("CLASS", format: "1I"),
            FITSColumnSpec("N", format: "1J"), FITSColumnSpec("TAG", format: "8A"),
        ], extname: "ROWS")
        try f.writeColumns([
            .int64((0..<n).map { Int64($0) * 3 }), .double((0..<n).map { Double($0) * 1e-4 }),
            .float((0..<n).map { Float($0 % 1000) / 10 }), .int16((0..<n).map { Int16($0 % 3) - 1 }),
            .int32((0..<n).map { Int32(n - $0) }), .string((0..<n).map { "t\($0 % 97)" }),
        ])
        #expect(throws: FITSError.self) { try f.writeColumns([.int16([1, 2]), .float([1])]) }
        try f.writeChecksum()
        try f.close()
        let verdict = try fitsverify(path)
        #expect(verdict.clean, "\(verdict.report)")

        let r = try FITSFile.open(path)
        try r.moveTo(hdu: 2)
        #expect(try r.rowCount() == n)
        #expect(try r.readColumn("ID", as: Int64.self) == (0..<n).map { Int64($0) * 3 })
        #expect(try r.readColumn("RA", as: Double.self) == (0..<n).map { Double($0) * 1e-4 })
        #expect(try r.readColumn("MAG", as: Float.self) == (0..<n).map { Float($0 % 1000) / 10 })
        #expect(try r.readColumn("CLASS", as: Int16.self) == (0..<n).map { Int16($0 % 3) - 1 })
        #expect(try r.readColumn("N", as: Int32.self) == (0..<n).map { Int32(n - $0) })
        #expect(try r.readStringColumn(6, firstRow: n - 1, count: 2) == ["t\((n - 2) % 97)", "t\((n - 1) % 97)"])
    }

    @Test func aCompressedHDUIsCopiedAsStored() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("src.fit").path
        let pixels = (0..<(64 * 48)).map { Int32($0 % 500) }
        let s = try FITSFile.create(source)
        try s.createImage(bitpix: .int16, dimensions: [])
        try s.createImage(bitpix: .int32, dimensions: [64, 48], compression: .rice())
        try s.setKey("CAMNUM", .int(3))
        try s.writePixels(pixels)
        try s.close()

        let target = dir.appendingPathComponent("dst.fit").path
        let src = try FITSFile.open(source)
        try src.moveTo(hdu: 2)
        let t = try FITSFile.create(target)
        try t.createImage(bitpix: .int16, dimensions: [])
        try t.appendCopy(ofCurrentHDUOf: src)
        #expect(t.currentHDU == 2)
        try t.close()
        #expect(try fitsverify(target).clean)

        let r = try FITSFile.open(target)
        let hdus = try r.hdus()
        #expect(hdus.count == 2 && hdus[1].isCompressed && hdus[1].dimensions == [64, 48])
        try r.moveTo(hdu: 2)
        #expect(try r.readKey("CAMNUM") == .int(3))
        #expect(try r.readPixels(as: Int32.self) == pixels)
    }
}
