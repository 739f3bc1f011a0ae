import CCFITSIO
import Foundation

/// What an HDU holds.
public enum HDUKind: Sendable, Equatable {
    case image
    case asciiTable
    case binaryTable
}

/// A summary of one HDU, as `FITSFile.hdus()` lists them.
public struct HDUInfo: Sendable, Equatable {
    /// 1-based HDU number (1 is the primary HDU).
    public var index: Int
    /// Images include tile-compressed images (stored as binary tables, read as images).
    public var kind: HDUKind
    public var extname: String?
    public var isCompressed: Bool
    /// BITPIX of the (uncompressed) image, nil for tables.
    public var bitpix: Int?
    /// Image axis lengths (empty for a data-less primary HDU); nil for tables.
    public var dimensions: [Int]?
    /// Row and column counts of tables.
    public var rows: Int?
    public var columns: Int?

    /// True when the HDU holds image pixels.
    public var holdsImage: Bool {
        kind == .image && !(dimensions ?? []).isEmpty && (dimensions ?? []).allSatisfy { $0 > 0 }
    }

    /// True when the HDU holds a catalogue (a binary or ASCII table that is not a compressed image).
    public var holdsCatalogue: Bool { kind != .image }
}

/// An open FITS file. Not thread-safe: use one `FITSFile` per task; cfitsio itself is reentrant,
/// so different files (or the same file opened twice) may be used on different threads.
public final class FITSFile {
    public enum Mode: Sendable { case readOnly, readWrite }

    /// The path as given (read literally: no cfitsio extended syntax).
    public let path: String
    var fptr: UnsafeMutablePointer<fitsfile>?
    /// The current HDU, 1-based.
    public internal(set) var currentHDU: Int = 1

    private init(path: String, fptr: UnsafeMutablePointer<fitsfile>) {
        self.path = path
        self.fptr = fptr
    }

    deinit {
        if let fptr {
            var status: Int32 = 0
            ffclos(fptr, &status)
            if status != 0 { ffcmsg() }
        }
    }

    /// Opens an existing file. The name is taken literally (`fits_open_diskfile`).
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> FITSFile {
        var status: Int32 = 0
        var ptr: UnsafeMutablePointer<fitsfile>?
        ffdkopn(&ptr, path, mode == .readOnly ? READONLY : READWRITE, &status)
        if let error = fitsStatusError(status, code: .openFailed, file: path, hdu: nil,
                                       operation: "open") {
            if let ptr { var s: Int32 = 0; ffclos(ptr, &s); ffcmsg() }
            throw error
        }
        guard let ptr else {
            throw FITSError(.openFailed, file: path, operation: "open", message: "cfitsio returned no file")
        }
        let file = FITSFile(path: path, fptr: ptr)
        var hdus: Int32 = 0
        ffthdu(ptr, &hdus, &status)
        if let error = fitsStatusError(status, code: .openFailed, file: path, hdu: nil,
                                       operation: "count HDUs") {
            throw error
        }
        return file
    }

    /// Creates a new, empty file (no HDUs yet). Fails if the file exists, unless `overwrite`.
    public static func create(_ path: String, overwrite: Bool = false) throws -> FITSFile {
        if overwrite, FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: path)
        }
        var status: Int32 = 0
        var ptr: UnsafeMutablePointer<fitsfile>?
        ffdkinit(&ptr, path, &status)
        if let error = fitsStatusError(status, code: .createFailed, file: path, hdu: nil,
                                       operation: "create") {
            throw error
        }
        guard let ptr else {
            throw FITSError(.createFailed, file: path, operation: "create", message: "cfitsio returned no file")
        }
        return FITSFile(path: path, fptr: ptr)
    }

    /// Flushes and closes the file. Safe to call twice.
    public func close() throws {
        guard let fptr else { return }
        self.fptr = nil
        var status: Int32 = 0
        ffclos(fptr, &status)
        if let error = fitsStatusError(status, code: .closeFailed, file: path, hdu: nil,
                                       operation: "close") {
            throw error
        }
    }

    /// Runs a cfitsio call on the open file and throws its status as a `FITSError`.
    @discardableResult
    func call<R>(_ code: FITSError.Code, _ operation: @autoclosure () -> String,
                 _ body: (UnsafeMutablePointer<fitsfile>, inout Int32) -> R) throws -> R {
        guard let fptr else {
            throw FITSError(code, file: path, hdu: currentHDU, operation: operation(),
                            message: "the file is closed")
        }
        var status: Int32 = 0
        let result = body(fptr, &status)
        if let error = fitsStatusError(status, code: code, file: path, hdu: currentHDU,
                                       operation: operation()) {
            throw error
        }
        return result
    }

    func error(_ code: FITSError.Code, _ operation: String, _ message: String) -> FITSError {
        FITSError(code, file: path, hdu: currentHDU, operation: operation, message: message)
    }

    /// The number of HDUs in the file.
    public func hduCount() throws -> Int {
        var n: Int32 = 0
        try call(.readFailed, "count HDUs") { ffthdu($0, &n, &$1) }
        return Int(n)
    }

    /// Makes HDU `index` (1-based) current and returns what it holds.
    @discardableResult
    public func moveTo(hdu index: Int) throws -> HDUKind {
        var type: Int32 = 0
        guard index >= 1 else {
            throw error(.noSuchHDU, "move to HDU \(index)", "HDU numbers start at 1")
        }
        do {
            try call(.noSuchHDU, "move to HDU \(index)") { ffmahd($0, Int32(index), &type, &$1) }
        } catch let e as FITSError {
            var e = e
            e.hdu = index
            throw e
        }
        currentHDU = index
        switch type {
        case BINARY_TBL: return try isCompressedImage() ? .image : .binaryTable
        case ASCII_TBL: return .asciiTable
        default: return .image
        }
    }

    /// True when the current HDU is a tile-compressed image.
    public func isCompressedImage() throws -> Bool {
        try call(.readFailed, "check compression") { fits_is_compressed_image($0, &$1) } != 0
    }

    /// Lists every HDU: images (compressed or not) and catalogues.
    public func hdus() throws -> [HDUInfo] {
        let count = try hduCount()
        let start = currentHDU
        defer { _ = try? moveTo(hdu: start) }
        var list: [HDUInfo] = []
        for i in 1...count {
            let kind = try moveTo(hdu: i)
            var info = HDUInfo(index: i, kind: kind, extname: try readKey("EXTNAME")?.stringValue,
                               isCompressed: kind == .image ? try isCompressedImage() : false)
            switch kind {
            case .image:
                let (bitpix, dims) = try imageShape()
                info.bitpix = bitpix
                info.dimensions = dims
            case .asciiTable, .binaryTable:
                info.rows = try rowCount()
                info.columns = try columnCount()
            }
            list.append(info)
        }
        try checkNothingAfterLastHDU()
        return list
    }

    /// cfitsio counts HDUs until one does not read, without saying so: a damaged XTENSION
    /// header makes a four-detector frame look like a shorter, valid one. The last HDU must end
    /// where the file ends; bytes after it are an HDU that does not read.
    func checkNothingAfterLastHDU() throws {
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        try call(.readFailed, "locate the last HDU") { ffghadll($0, &headStart, &dataStart, &dataEnd, &$1) }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }  // not a plain file: nothing to compare
        let size = Int64(info.st_size)
        if size > dataEnd {
            throw error(.readFailed, "list HDUs",
                        "\(size - dataEnd) bytes after HDU \(currentHDU) do not read as an HDU (a damaged extension header?)")
        }
    }
}

extension HDUInfo {
    init(index: Int, kind: HDUKind, extname: String?, isCompressed: Bool) {
        self.index = index
        self.kind = kind
        self.extname = extname
        self.isCompressed = isCompressed
    }
}
