import FITS
import Foundation
import SystemSupport

/// A column of a truth or external table, written both as FITS and as CSV.
public enum TableColumn: Sendable {
    case int64(String, [Int64], unit: String = "")
    case int16(String, [Int16], unit: String = "")
    case int32(String, [Int32], unit: String = "")
    case double(String, [Double], unit: String = "")
    case float(String, [Float], unit: String = "")
    case string(String, [String], width: Int)

    var name: String {
        switch self {
        case .int64(let n, _, _), .int16(let n, _, _), .int32(let n, _, _), .double(let n, _, _),
             .float(let n, _, _), .string(let n, _, _): return n
        }
    }

    var count: Int {
        switch self {
        case .int64(_, let v, _): return v.count
        case .int16(_, let v, _): return v.count
        case .int32(_, let v, _): return v.count
        case .double(_, let v, _): return v.count
        case .float(_, let v, _): return v.count
        case .string(_, let v, _): return v.count
        }
    }

    var spec: FITSColumnSpec {
        switch self {
        case .int64(let n, _, let u): return FITSColumnSpec(n, format: "1K", unit: u)
        case .int16(let n, _, let u): return FITSColumnSpec(n, format: "1I", unit: u)
        case .int32(let n, _, let u): return FITSColumnSpec(n, format: "1J", unit: u)
        case .double(let n, _, let u): return FITSColumnSpec(n, format: "1D", unit: u)
        case .float(let n, _, let u): return FITSColumnSpec(n, format: "1E", unit: u)
        case .string(let n, _, let w): return FITSColumnSpec(n, format: "\(max(w, 1))A")
        }
    }

    func csv(_ row: Int) -> String {
        switch self {
        case .int64(_, let v, _): return String(v[row])
        case .int16(_, let v, _): return String(v[row])
        case .int32(_, let v, _): return String(v[row])
        case .double(_, let v, _): return v[row].isFinite ? "\(v[row])" : ""
        case .float(_, let v, _): return v[row].isFinite ? "\(v[row])" : ""
        case .string(_, let v, _):
            let s = v[row]
            return s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
    }
}

/// Writes small tables: a FITS file (empty primary + one BINTABLE) and a CSV twin.
enum TableWriter {
    /// Writes the FITS and the CSV form of a table at the same time (two cores).
    static func writeBoth(directory: URL, name: String, extname: String, columns: [TableColumn],
                          keywords: [FITSCard] = []) throws {
        let outcomes = concurrentMap([0, 1], jobs: 2) { i in
            if i == 0 {
                try writeFITS(directory.appendingPathComponent(name + ".fits").path, extname: extname,
                              columns: columns, keywords: keywords)
            } else {
                try writeCSV(directory.appendingPathComponent(name + ".csv").path, columns: columns)
            }
        }
        for outcome in outcomes { try outcome.get() }
    }

    /// Writes `path` (FITS) atomically; the header gets `keywords` as well.
    static func writeFITS(_ path: String, extname: String, columns: [TableColumn],
                          keywords: [FITSCard] = []) throws {
        let rows = columns.first?.count ?? 0
        let temp = path + ".part"
        let f = try FITSFile.create(temp, overwrite: true)
        do {
            try f.createImage(bitpix: .int16, dimensions: [])
            try f.addComment("Written by wfcamsim (simulated WFCAM survey data).")
            try f.createBinaryTable(columns: columns.map(\.spec), rows: rows, extname: extname)
            try f.setKeys(FITSHeader(keywords))
            // Row blocks that fit cfitsio's buffers: writing whole columns one after another
            // would sweep the whole table once per column.
            let width = columns.reduce(0) { w, c in
                switch c {
                case .int64, .double: return w + 8
                case .int32, .float: return w + 4
                case .int16: return w + 2
                case .string(_, _, let n): return w + max(n, 1)
                }
            }
            let block = max(1, 60_000 / max(width, 1))
            var first = 0
            while first < rows {
                let r = first..<min(rows, first + block)
                for (k, c) in columns.enumerated() {
                    switch c {
                    case .int64(_, let v, _): try f.writeColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    case .int16(_, let v, _): try f.writeColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    case .int32(_, let v, _): try f.writeColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    case .double(_, let v, _): try f.writeColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    case .float(_, let v, _): try f.writeColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    case .string(_, let v, _): try f.writeStringColumn(k + 1, Array(v[r]), firstRow: first + 1)
                    }
                }
                first += block
            }
            try f.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temp, toPath: path)
    }

    /// Writes a CSV with a header line, atomically.
    static func writeCSV(_ path: String, columns: [TableColumn]) throws {
        let rows = columns.first?.count ?? 0
        var text = columns.map(\.name).joined(separator: ",") + "\n"
        text.reserveCapacity(rows * columns.count * 10)
        for r in 0..<rows {
            text += columns.map { $0.csv(r) }.joined(separator: ",")
            text += "\n"
        }
        try writeAtomically(text, to: path)
    }

    /// Writes text under a temporary name and renames it into place.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temp = path + ".part"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temp))
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temp, toPath: path)
    }
}
