import Foundation
import Testing
import TestSupport
@testable import FITS

/// Files written by our FITS foundation pass fitsverify and read back identically in astropy.
@Suite struct FITSRoundTripTests {
    static let width = 37, height = 23

    static func pattern(_ i: Int) -> Int32 { Int32((i * 7919) % 60001) - 30000 }

    /// Writes a MEF with one HDU of each kind we support and returns its path.
    static func writeSample(_ dir: URL) throws -> String {
        let path = dir.appendingPathComponent("sample[1].fits").path  // brackets read literally
        let f = try FITSFile.create(path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.setKey("TELESCOP", .string("UKIRT"), comment: "telescope")
        try f.setKey("EXP_TIME", .double(10.0), comment: "[s] exposure")
        try f.setKey("NEXP", .int(2))
        try f.setKey("FLAG", .bool(true))
        try f.setKey("RABASE", .double(10.123456789012), comment: "[h] base RA")
        try f.setKey("LONGSTR", .string(String(repeating: "abcdefghij", count: 12)), comment: "long")
        try f.setKey("ESO DET CHIP NAME", .string("hierarch value"))
        try f.setKey("QUOTE", .string("it's"))
        try f.addHistory("written by FITSRoundTripTests")
        try f.writeChecksum()

        let n = width * height
        // 2: int16 scaled by BSCALE/BZERO (unsigned 16-bit via BZERO = 32768)
        try f.createImage(bitpix: .int16, dimensions: [width, height])
        try f.setKey("BZERO", .double(32768))
        try f.setKey("BSCALE", .double(1))
        try f.setKey("EXTNAME", .string("USHORT"))
        try f.writePixels((0..<n).map { UInt16(($0 * 977) % 65536) })
        try f.writeChecksum()
        // 3: int32 Rice tile-compressed, as CASU delivers
        try f.createImage(bitpix: .int32, dimensions: [width, height], compression: .rice())
        try f.setKey("EXTNAME", .string("RICE32"))
        try f.writePixels((0..<n).map(pattern))
        try f.writeChecksum()
        // 4: float32, uncompressed
        try f.createImage(bitpix: .float32, dimensions: [width, height])
        try f.setKey("EXTNAME", .string("FLOAT"))
        try f.writePixels((0..<n).map { Float($0) * 0.25 - 100 })
        try f.writeChecksum()
        // 5: binary table with typed columns
        try f.createBinaryTable(columns: [
            FITSColumnSpec("SEQ", format: "1J"),
            FITSColumnSpec("RA", format: "1D", unit: "deg"),
            FITSColumnSpec("FLUX", format: "1E", unit: "ADU"),
            FITSColumnSpec("CLASS", format: "1I"),
            FITSColumnSpec("OBJID", format: "1K"),
            FITSColumnSpec("NAME", format: "12A"),
        ], rows: 0, extname: "CATALOGUE")
        let rows = 1000
        try f.writeColumn(1, (1...rows).map { Int32($0) })
        try f.writeColumn(2, (0..<rows).map { 150.0 + Double($0) * 1e-6 })
        try f.writeColumn(3, (0..<rows).map { Float($0) * 1.5 })
        try f.writeColumn(4, (0..<rows).map { Int16($0 % 3 - 1) })
        try f.writeColumn(5, (0..<rows).map { Int64($0) * 4_000_000_000 })
        try f.writeStringColumn(6, (0..<rows).map { "src\($0)" })
        try f.writeChecksum()
        try f.close()
        return path
    }

    @Test func writtenFilePassesFitsverify() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.writeSample(dir)
        let verdict = try fitsverify(path)
        #expect(verdict.clean, "\(verdict.report)")
    }

    @Test func ourReaderReadsWhatWeWrote() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try FITSFile.open(try Self.writeSample(dir))
        let hdus = try f.hdus()
        #expect(hdus.count == 5)
        #expect(hdus.map(\.holdsImage) == [false, true, true, true, false])
        #expect(hdus.map(\.holdsCatalogue) == [false, false, false, false, true])
        #expect(hdus[2].isCompressed && hdus[2].bitpix == 32 && hdus[2].dimensions == [Self.width, Self.height])

        try f.moveTo(hdu: 1)
        #expect(try f.readKey("EXP_TIME") == .double(10))
        #expect(try f.readKey("NEXP") == .int(2))
        #expect(try f.readKey("FLAG") == .bool(true))
        #expect(try f.readKey("LONGSTR") == .string(String(repeating: "abcdefghij", count: 12)))
        #expect(try f.readKey("ESO DET CHIP NAME") == .string("hierarch value"))
        #expect(try f.readKey("QUOTE") == .string("it's"))
        #expect(try f.readKey("NOSUCHKEY") == nil)
        #expect(abs(try f.requireDouble("RABASE") - 10.123456789012) < 1e-12)
        let header = try f.header()
        #expect(header.string("LONGSTR") == String(repeating: "abcdefghij", count: 12))
        #expect(header.string("ESO DET CHIP NAME") == "hierarch value")
        #expect(try f.verifyChecksum() == true)

        let n = Self.width * Self.height
        try f.moveTo(hdu: 2)
        #expect(try f.readPixels(as: UInt16.self) == (0..<n).map { UInt16(($0 * 977) % 65536) })
        try f.moveTo(hdu: 3)
        #expect(try f.readPixels(as: Int32.self) == (0..<n).map(Self.pattern))
        #expect(try f.header().string("CTYPE1") == nil)
        try f.moveTo(hdu: 4)
        #expect(try f.readPixels(as: Float.self) == (0..<n).map { Float($0) * 0.25 - 100 })
        try f.moveTo(hdu: 5)
        #expect(try f.rowCount() == 1000)
        #expect(try f.readColumn("seq", as: Int32.self, firstRow: 991) == (991...1000).map { Int32($0) })
        #expect(try f.readColumn("RA", as: Double.self)[999] == 150.0 + 999e-6)
        #expect(try f.readColumn("OBJID", as: Int64.self)[3] == 12_000_000_000)
        #expect(try f.readStringColumn(try f.columnIndex("NAME"), firstRow: 5, count: 2) == ["src4", "src5"])
        let raw = try f.readRawRows(firstRow: 2, count: 1)
        let width = try f.rowWidth()
        #expect(raw.count == width)
        #expect(Array(raw.prefix(4)) == [0, 0, 0, 2])  // SEQ = 2, big-endian
        #expect(throws: FITSError.self) { try f.columnIndex("NOPE") }
    }

    @Test func astropyReadsTheSamePixelsCardsAndColumns() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.writeSample(dir)
        let out = try runPython("""
            import sys, json, numpy as np
            from astropy.io import fits
            h = fits.open(sys.argv[1])
            p = h[0].header
            r = {
              "n": len(h), "exp": p["EXP_TIME"], "nexp": p["NEXP"], "flag": bool(p["FLAG"]),
              "long": p["LONGSTR"], "hier": p["HIERARCH ESO DET CHIP NAME"], "quote": p["QUOTE"],
              "rabase": repr(p["RABASE"]),
              "u16": h[1].data.astype(np.int64).ravel().tolist(),
              "rice": h[2].data.astype(np.int64).ravel().tolist(), "ricetype": type(h[2]).__name__,
              "f32": h[3].data.astype(np.float64).ravel().tolist(),
              "seq": h[4].data["SEQ"][-3:].tolist(), "ra": h[4].data["RA"][999].item(),
              "objid": h[4].data["OBJID"][3].item(), "name": h[4].data["NAME"][4],
              "units": [h[4].columns[i].unit or "" for i in range(6)],
              "shape": list(h[1].data.shape),
            }
            print(json.dumps(r))
            """, [path])
        let r = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let n = Self.width * Self.height
        #expect(r["n"] as? Int == 5)
        #expect(r["exp"] as? Double == 10)
        #expect(r["nexp"] as? Int == 2)
        #expect(r["flag"] as? Bool == true)
        #expect(r["long"] as? String == String(repeating: "abcdefghij", count: 12))
        #expect(r["hier"] as? String == "hierarch value")
        #expect(r["quote"] as? String == "it's")
        #expect(Double(r["rabase"] as? String ?? "") == 10.123456789012)
        #expect(r["shape"] as? [Int] == [Self.height, Self.width])
        #expect(r["u16"] as? [Int] == (0..<n).map { ($0 * 977) % 65536 })
        #expect(r["rice"] as? [Int] == (0..<n).map { Int(Self.pattern($0)) })
        #expect(r["ricetype"] as? String == "CompImageHDU")
        #expect(r["f32"] as? [Double] == (0..<n).map { Double(Float($0) * 0.25 - 100) })
        #expect(r["seq"] as? [Int] == [998, 999, 1000])
        #expect(r["ra"] as? Double == 150.0 + 999e-6)
        #expect(r["objid"] as? Int == 12_000_000_000)
        #expect(r["name"] as? String == "src4")
        #expect(r["units"] as? [String] == ["", "deg", "ADU", "", "", ""])
    }

    @Test func floatRiceImagesAreQuantisedWithinTheirNoise() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("q.fits").path
        let f = try FITSFile.create(path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.createImage(bitpix: .float32, dimensions: [64, 64], compression: .rice(quantizeLevel: 16))
        var rng = SystemRandomNumberGenerator()
        let pixels = (0..<4096).map { _ in Float(1000 + Double.random(in: -10...10, using: &rng)) }
        try f.writePixels(pixels)
        try f.writeChecksum()
        try f.close()
        let verdict = try fitsverify(path)
        #expect(verdict.clean, "\(verdict.report)")
        let back = try FITSFile.open(path)
        try back.moveTo(hdu: 2)
        let read = try back.readPixels(as: Float.self)
        let worst = zip(read, pixels).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1.0)
    }
}
