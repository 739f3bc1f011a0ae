import Foundation
import Testing
import TestSupport
@testable import FITS
import SystemSupport

/// Every damaged file gives a clear error naming the file; none crashes the reader.
@Suite struct DamagedFileTests {
    /// Reads everything a curation program would read from a file; returns the first error.
    static func readEverything(_ path: String) -> FITSError? {
        var ignored: [[Double]] = []
        return readEverything(path, into: &ignored)
    }

    /// Reads every HDU's pixels or columns into `data` (one array an HDU).
    static func readEverything(_ path: String, into data: inout [[Double]]) -> FITSError? {
        do {
            let f = try FITSFile.open(path)
            for hdu in try f.hdus() {
                try f.moveTo(hdu: hdu.index)
                _ = try f.header()
                if hdu.holdsImage {
                    data.append(try f.readPixels(as: Double.self))
                    _ = try? f.wcs()
                } else if hdu.holdsCatalogue {
                    for column in try f.columns() where column.typeCode > 0 && column.typeCode != 16 {
                        data.append(try f.readColumn(column.index, as: Double.self))
                    }
                }
            }
            try f.close()
            return nil
        } catch let e as FITSError {
            return e
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    static func writeGood(_ path: String) throws {
        let f = try FITSFile.create(path)
        try f.createImage(bitpix: .int16, dimensions: [])
        try f.setKey("PROJECT", .string("U/UKIDSS/LAS"))
        for ext in 1...2 {
            try f.createImage(bitpix: .int32, dimensions: [96, 80], compression: .rice())
            try f.setKey("CAMNUM", .int(ext))
            try f.writePixels((0..<(96 * 80)).map { Int32(1000 + ($0 * 37 + ext) % 211) })
        }
        try f.createBinaryTable(columns: [FITSColumnSpec("X", format: "1E"),
                                          FITSColumnSpec("Y", format: "1E")], extname: "CAT")
        try f.writeColumn(1, (0..<500).map { Float($0) })
        try f.writeColumn(2, (0..<500).map { Float($0) * 2 })
        try f.close()
    }

    @Test func missingAndEmptyFilesAreClearErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("w20051012_00001_sf_st.fit").path
        let e1 = try #require(Self.readEverything(missing))
        #expect(e1.code == .openFailed && e1.description.contains(missing))

        let empty = dir.appendingPathComponent("empty.fit").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let e2 = try #require(Self.readEverything(empty))
        #expect(e2.description.contains(empty))

        let garbage = dir.appendingPathComponent("garbage.fit").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        let e3 = try #require(Self.readEverything(garbage))
        #expect(e3.description.contains(garbage))
        #expect(e3.description.split(separator: "\n").count == 1)
    }

    @Test func truncatedFilesNeverCrashTheReader() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.fit").path
        try Self.writeGood(good)
        var truth: [[Double]] = []
        #expect(Self.readEverything(good, into: &truth) == nil)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        // Cut the file at many points, including inside headers, tile tables and the heap.
        // A cut either fails with an error naming the file, or only removed padding or whole
        // trailing HDUs, so that everything still read equals the original.
        var failures = 0, cuts = 0
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            cuts += 1
            let path = dir.appendingPathComponent("cut\(cut).fit").path
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            var read: [[Double]] = []
            if let e = Self.readEverything(path, into: &read) {
                failures += 1
                #expect(e.description.contains(path), "error does not name the file: \(e)")
            } else {
                #expect(read.count <= truth.count && Array(truth.prefix(read.count)) == read,
                        "a file cut at byte \(cut) read back different data without an error")
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(failures > cuts / 2)
    }

    @Test func corruptedBytesNeverCrashTheReader() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.fit").path
        try Self.writeGood(good)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        var rng = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> Int { Int(truncatingIfNeeded: rng.next() >> 1) }
        for round in 0..<150 {
            var damaged = bytes
            for _ in 0..<(1 + round % 8) {
                let at = next() % damaged.count
                damaged[at] = UInt8(truncatingIfNeeded: next())
            }
            let path = dir.appendingPathComponent("flip\(round).fit").path
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            if let e = Self.readEverything(path) {
                #expect(e.description.contains(path))
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func missingKeywordsNameTheKeyword() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.fit").path
        try Self.writeGood(good)
        let f = try FITSFile.open(good)
        do {
            _ = try f.requireDouble("EXP_TIME")
            Issue.record("a missing keyword was not reported")
        } catch let e as FITSError {
            #expect(e.code == .keywordMissing)
            #expect(e.description.contains("EXP_TIME") && e.description.contains(good))
        }
        do {
            _ = try f.requireDouble("PROJECT")
            Issue.record("a non-numeric keyword was not reported")
        } catch let e as FITSError {
            #expect(e.code == .keywordInvalid)
        }
        try f.moveTo(hdu: 2)
        #expect(throws: FITSError.self) { try f.wcs() }
    }
}
