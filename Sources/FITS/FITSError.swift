import CCFITSIO
import Foundation

/// The one error type of the FITS layer: names the file, the HDU and what cfitsio or wcslib said.
public struct FITSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Stable error codes, one per kind of failure.
    public enum Code: String, Sendable {
        case openFailed, createFailed, closeFailed
        case noSuchHDU, notAnImage, notATable
        case keywordMissing, keywordInvalid, headerWriteFailed
        case readFailed, writeFailed
        case columnMissing, columnTypeMismatch
        case tooLarge
        case wcsFailed
    }

    public var code: Code
    /// The file the operation was on.
    public var file: String
    /// 1-based HDU number, when the operation was on an HDU.
    public var hdu: Int?
    /// What we were doing, e.g. `read keyword EXP_TIME`.
    public var operation: String
    /// cfitsio status (or wcslib return code), 0 when the error is ours.
    public var status: Int32
    /// The library's own message(s): its status text, then its message stack in parentheses.
    public var message: String
    /// The status text alone (`"illegal character in keyword"`), and the message stack cfitsio
    /// left, most specific first; for logs.
    public var summary: String
    public var stack: [String] = []

    public init(_ code: Code, file: String, hdu: Int? = nil, operation: String,
                status: Int32 = 0, message: String) {
        self.code = code
        self.file = file
        self.hdu = hdu
        self.operation = operation
        self.status = status
        self.message = message
        self.summary = message
    }

    public var description: String {
        var where_ = file
        if let hdu { where_ += " [HDU \(hdu)]" }
        return "\(where_): \(operation) failed: \(message)"
    }
}

/// Turns a cfitsio status into a `FITSError`, draining cfitsio's message stack.
/// Returns nil when the status is 0.
func fitsStatusError(_ status: Int32, code: FITSError.Code, file: String, hdu: Int?,
                     operation: String) -> FITSError? {
    guard status != 0 else { return nil }
    var text = [CChar](repeating: 0, count: Int(FLEN_STATUS) + 1)
    ffgerr(status, &text)
    var message = String(cChars: text)
    var stack: [String] = []
    var line = [CChar](repeating: 0, count: Int(FLEN_ERRMSG) + 1)
    while ffgmsg(&line) != 0 {
        let s = String(cChars: line).trimmingCharacters(in: .whitespaces)
        if !s.isEmpty { stack.append(s) }
    }
    let summary = message
    if !stack.isEmpty { message += " (" + stack.joined(separator: "; ") + ")" }
    var error = FITSError(code, file: file, hdu: hdu, operation: operation, status: status, message: message)
    error.summary = summary
    error.stack = stack
    return error
}

extension String {
    /// A string from a NUL-terminated C character buffer.
    init(cChars buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
