import CCFITSIO
import Foundation

/// A column to create in a binary table.
public struct FITSColumnSpec: Sendable, Equatable {
    public var name: String
    /// TFORM, e.g. `1E`, `1J`, `1D`, `1K`, `1I`, `20A`.
    public var format: String
    public var unit: String

    public init(_ name: String, format: String, unit: String = "") {
        self.name = name
        self.format = format
        self.unit = unit
    }
}

/// A column as found in a table.
public struct FITSColumnInfo: Sendable, Equatable {
    /// 1-based column number.
    public var index: Int
    public var name: String
    public var unit: String
    /// cfitsio type code (TFLOAT, TINT, …; negative for variable-length arrays).
    public var typeCode: Int
    public var repeatCount: Int
    /// Width in bytes of one element.
    public var width: Int
}

extension FITSFile {
    /// Creates a binary table HDU after the last HDU, with `rows` rows (0 to grow as written).
    public func createBinaryTable(columns: [FITSColumnSpec], rows: Int = 0, extname: String? = nil) throws {
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } }
        var ttype = cStrings(columns.map(\.name))
        var tform = cStrings(columns.map(\.format))
        var tunit = cStrings(columns.map(\.unit))
        defer { (ttype + tform + tunit).forEach { free($0) } }
        try call(.writeFailed, "create binary table") {
            ffcrtb($0, Int32(BINARY_TBL), Int64(rows), Int32(columns.count),
                   &ttype, &tform, &tunit, extname, &$1)
        }
        var n: Int32 = 0
        try call(.readFailed, "locate new HDU") { f, _ in ffghdn(f, &n) }
        currentHDU = Int(n)
    }

    /// Rows in the current table.
    public func rowCount() throws -> Int {
        var n: Int64 = 0
        try call(.notATable, "count rows") { ffgnrwll($0, &n, &$1) }
        return Int(n)
    }

    /// Columns in the current table.
    public func columnCount() throws -> Int {
        var n: Int32 = 0
        try call(.notATable, "count columns") { ffgncl($0, &n, &$1) }
        return Int(n)
    }

    /// Describes every column of the current table.
    public func columns() throws -> [FITSColumnInfo] {
        let n = try columnCount()
        guard n > 0 else { return [] }
        return try (1...n).map { try columnInfo($0) }
    }

    /// Describes one column (1-based).
    public func columnInfo(_ index: Int) throws -> FITSColumnInfo {
        var ttype = [CChar](repeating: 0, count: 72), tunit = [CChar](repeating: 0, count: 72)
        var dtype = [CChar](repeating: 0, count: 72), tdisp = [CChar](repeating: 0, count: 72)
        var rep: Int64 = 0, scale = 0.0, zero = 0.0, nulval: Int64 = 0
        var typecode: Int32 = 0, width: Int64 = 0
        try call(.notATable, "describe column \(index)") { f, s in
            ffgbclll(f, Int32(index), &ttype, &tunit, &dtype, &rep, &scale, &zero, &nulval, &tdisp, &s)
            ffgtclll(f, Int32(index), &typecode, &rep, &width, &s)
        }
        return FITSColumnInfo(index: index, name: String(cChars: ttype), unit: String(cChars: tunit),
                              typeCode: Int(typecode), repeatCount: Int(rep), width: Int(width))
    }

    /// The 1-based number of the column with this name (case-insensitive, exact).
    public func columnIndex(_ name: String) throws -> Int {
        var n: Int32 = 0
        var status: Int32 = 0
        guard let fptr else { throw error(.columnMissing, "find column \(name)", "the file is closed") }
        let template = name.replacingOccurrences(of: "*", with: "\\*")
            .replacingOccurrences(of: "?", with: "\\?").replacingOccurrences(of: "#", with: "\\#")
        var templateC = Array(template.utf8CString)
        ffgcno(fptr, Int32(CASEINSEN), &templateC, &n, &status)
        if status == COL_NOT_FOUND || status == 237 /* COL_NOT_UNIQUE */ {
            ffcmsg()
            throw error(.columnMissing, "find column \(name)", "the table has no column \(name)")
        }
        if let e = fitsStatusError(status, code: .columnMissing, file: path, hdu: currentHDU,
                                   operation: "find column \(name)") { throw e }
        return Int(n)
    }

    /// Reads `count` values of a scalar column from 1-based row `firstRow` (all rows by default),
    /// converting to `T` (TSCAL/TZERO applied).
    public func readColumn<T: FITSNumeric>(_ column: Int, as type: T.Type = T.self,
                                           firstRow: Int = 1, count: Int? = nil) throws -> [T] {
        let n = try count ?? (rowCount() - firstRow + 1)
        guard n > 0 else { return [] }
        guard n <= Self.maximumImageElements else {
            throw error(.tooLarge, "read column \(column)", "\(n) rows is more than we read at once")
        }
        var anynul: Int32 = 0
        return try [T](cfitsioFilling: n) { base in
            _ = try call(.readFailed, "read column \(column)") {
                ffgcv($0, T.cfitsioType, Int32(column), Int64(firstRow), 1, Int64(n), nil, base, &anynul, &$1)
            }
        }
    }

    /// Reads a column by name.
    public func readColumn<T: FITSNumeric>(_ name: String, as type: T.Type = T.self,
                                           firstRow: Int = 1, count: Int? = nil) throws -> [T] {
        try readColumn(try columnIndex(name), as: type, firstRow: firstRow, count: count)
    }

    /// Reads a character column as strings (trailing blanks removed).
    public func readStringColumn(_ column: Int, firstRow: Int = 1, count: Int? = nil) throws -> [String] {
        let n = try count ?? (rowCount() - firstRow + 1)
        guard n > 0 else { return [] }
        let info = try columnInfo(column)
        let width = max(info.repeatCount, 1) + 1
        var storage = [CChar](repeating: 0, count: width * n)
        return try storage.withUnsafeMutableBufferPointer { buf -> [String] in
            var pointers: [UnsafeMutablePointer<CChar>?] = (0..<n).map { buf.baseAddress! + $0 * width }
            var anynul: Int32 = 0
            var nullString: [CChar] = [0]
            try call(.readFailed, "read column \(column)") {
                ffgcvs($0, Int32(column), Int64(firstRow), 1, Int64(n), &nullString, &pointers, &anynul, &$1)
            }
            return pointers.map { String(cString: $0!).trimmingTrailingSpaces() }
        }
    }

    /// Writes values into a scalar column from 1-based row `firstRow`.
    public func writeColumn<T: FITSNumeric>(_ column: Int, _ values: [T], firstRow: Int = 1) throws {
        guard !values.isEmpty else { return }
        try values.withUnsafeBytes { buffer in
            let base = UnsafeMutableRawPointer(mutating: buffer.baseAddress)
            try call(.writeFailed, "write column \(column)") {
                ffpcl($0, T.cfitsioType, Int32(column), Int64(firstRow), 1, Int64(values.count), base, &$1)
            }
        }
    }

    /// Writes strings into a character column from 1-based row `firstRow`.
    public func writeStringColumn(_ column: Int, _ values: [String], firstRow: Int = 1) throws {
        guard !values.isEmpty else { return }
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        try call(.writeFailed, "write column \(column)") {
            ffpcls($0, Int32(column), Int64(firstRow), 1, Int64(values.count), &pointers, &$1)
        }
    }

    /// Bytes in one row of the current table (NAXIS1).
    public func rowWidth() throws -> Int { try requireInt("NAXIS1") }

    /// Reads whole rows as stored: big-endian bytes, `rowWidth()` bytes a row. The fast path for
    /// streaming catalogue columns into PostgreSQL's binary COPY.
    public func readRawRows(firstRow: Int, count: Int) throws -> [UInt8] {
        let width = try rowWidth()
        let total = width * count
        guard total >= 0, total <= Self.maximumImageElements else {
            throw error(.tooLarge, "read rows", "\(count) rows of \(width) bytes is more than we read at once")
        }
        var bytes = [UInt8](repeating: 0, count: total)
        try call(.readFailed, "read rows \(firstRow)…\(firstRow + count - 1)") {
            ffgtbb($0, Int64(firstRow), 1, Int64(total), &bytes, &$1)
        }
        return bytes
    }
}

/// The values of one table column, for writing many columns at once.
public enum FITSColumnValues: Sendable, Equatable {
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case string([String])

    public var count: Int {
        switch self {
        case .int16(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .string(let v): return v.count
        }
    }
}

extension FITSFile {
    /// Writes columns 1…n of the current table (`columns[i]` into column i+1) from 1-based row
    /// `firstRow`, in blocks of the rows cfitsio buffers best, so that a long table is written
    /// row block by row block instead of sweeping the file once per column.
    public func writeColumns(_ columns: [FITSColumnValues], firstRow: Int = 1) throws {
        guard let rows = columns.first?.count, rows > 0 else { return }
        guard columns.allSatisfy({ $0.count == rows }) else {
            throw error(.writeFailed, "write columns", "columns of different lengths: \(columns.map(\.count))")
        }
        var block = 0
        try call(.writeFailed, "size row blocks") { ffgrsz($0, &block, &$1) }
        block = Swift.max(block, 1)
        var start = 0
        while start < rows {
            let end = Swift.min(start + block, rows)
            for (i, column) in columns.enumerated() {
                let row = firstRow + start
                switch column {
                case .int16(let v): try writeColumn(i + 1, Array(v[start..<end]), firstRow: row)
                case .int32(let v): try writeColumn(i + 1, Array(v[start..<end]), firstRow: row)
                case .int64(let v): try writeColumn(i + 1, Array(v[start..<end]), firstRow: row)
                case .float(let v): try writeColumn(i + 1, Array(v[start..<end]), firstRow: row)
                case .double(let v): try writeColumn(i + 1, Array(v[start..<end]), firstRow: row)
                case .string(let v): try writeStringColumn(i + 1, Array(v[start..<end]), firstRow: row)
                }
            }
            start = end
        }
    }
}
