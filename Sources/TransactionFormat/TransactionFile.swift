public import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a transaction file holds: the rows of one load as a PostgreSQL binary COPY stream, and
/// this manifest beside it naming the target table, the columns, the row count and the SHA-256
/// of the data. The load server verifies the data against it before it COPYs anything, and
/// records the checksum so that the same file is never loaded twice.
public struct TransactionManifest: Codable, Sendable, Equatable {
    /// The manifest format; readers refuse others.
    public static let currentFormat = "wsa-transaction/1"

    public var format: String
    /// Target table, e.g. `lasDetection`.
    public var table: String
    /// Target columns, in the order of the fields in every row.
    public var columns: [String]
    public var rowCount: Int
    /// Bytes in the data file.
    public var byteCount: Int
    /// SHA-256 of the data file, lower-case hex; also the data file's name.
    public var sha256: String
    /// The program that wrote it, for logs.
    public var writer: String

    public init(table: String, columns: [String], rowCount: Int, byteCount: Int, sha256: String,
                writer: String) {
        self.format = Self.currentFormat
        self.table = table
        self.columns = columns
        self.rowCount = rowCount
        self.byteCount = byteCount
        self.sha256 = sha256
        self.writer = writer
    }
}

/// Writing and verifying transaction files (`<sha256>.pgcopy` + `<sha256>.json`).
public enum TransactionFile {
    /// File name extensions of the two parts.
    public static let dataExtension = "pgcopy", manifestExtension = "json"

    /// Writes the rows `body` produces into `directory` and returns the manifest and the data
    /// file's URL. Both files appear under their checksum name only when complete (temporary
    /// names, fsync, rename), so a killed writer leaves nothing that looks loadable.
    public static func write(to directory: URL, table: String, columns: [String], writer: String,
                             _ body: (PostgresBinaryCopyWriter) throws -> Void) throws
        -> (manifest: TransactionManifest, data: URL) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TransactionFileError(.fileError, "cannot create \(directory.path): \(error.localizedDescription)")
        }
        // The data's name is its checksum, known at the end: write under a temporary name.
        let temporary = AtomicFile.temporaryPath(for: directory.appendingPathComponent("transaction").path)
        let fd: Int32
        do {
            fd = try syscall("open", path: temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640) }
        } catch {
            throw TransactionFileError(.fileError, "cannot create a transaction file: \(error)")
        }
        var isOpen = true
        defer {
            if isOpen {
                close(fd)
                unlink(temporary)
            }
        }
        var hash = SHA256()
        let copy = PostgresBinaryCopyWriter { chunk in
            hash.update(chunk)
            try writeAll(fd, chunk, path: temporary)
        }
        try body(copy)
        let rows = try copy.finish()
        let digest = hash.finalize().hexString
        let manifest = TransactionManifest(table: table, columns: columns, rowCount: rows,
                                           byteCount: copy.byteCount, sha256: digest, writer: writer)
        let data = directory.appendingPathComponent("\(digest).\(dataExtension)")
        do {
            try syscall("fsync", path: temporary) { fsync(fd) }
            isOpen = false
            close(fd)
            try AtomicFile.commit(temporary, to: data.path, alreadySynced: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(manifest)),
                                 to: directory.appendingPathComponent("\(digest).\(manifestExtension)").path,
                                 permissions: 0o640)
        } catch let error as SystemCallError {
            unlink(temporary)
            throw TransactionFileError(.fileError, "cannot write the transaction file \(digest): \(error)")
        }
        return (manifest, data)
    }

    /// Reads the manifest beside a data file (`<sha256>.json`).
    public static func manifest(for data: URL) throws -> TransactionManifest {
        let url = data.deletingPathExtension().appendingPathExtension(manifestExtension)
        do {
            let manifest = try JSONDecoder().decode(TransactionManifest.self, from: Data(contentsOf: url))
            guard manifest.format == TransactionManifest.currentFormat else {
                throw invalid(url, "format \(manifest.format), expected \(TransactionManifest.currentFormat)")
            }
            return manifest
        } catch let error as TransactionFileError {
            throw error
        } catch {
            throw invalid(url, "unreadable manifest (\(error))")
        }
    }

    /// Checks a data file against its manifest: size, SHA-256, and the COPY stream itself
    /// (header, every row's field count equal to the manifest's columns, field lengths inside
    /// the file, the trailer, the row count). Throws ``TransactionFileError`` (`invalid`) naming the file
    /// and the first problem.
    public static func verify(_ data: URL, against manifest: TransactionManifest) throws {
        try check(data, against: manifest) { _ in }
    }

    /// Reads `data` in 1 MiB chunks, hashing and checking each against `manifest` before handing
    /// it to `use`; throws ``TransactionFileError`` at the first problem, or at the end when size,
    /// SHA-256 or row count do not match.
    public static func check(_ data: URL, against manifest: TransactionManifest,
                              _ use: (Data) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: data.path) else {
            throw invalid(data, "cannot open it")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var parser = BinaryCopyParser(expectedFields: manifest.columns.count)
        var total = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw invalid(data, "read failed (\(error))")
            }
            if chunk.isEmpty { break }
            total += chunk.count
            chunk.withUnsafeBytes { hash.update($0) }
            if let problem = parser.consume(chunk) { throw invalid(data, problem) }
            guard total <= manifest.byteCount else {
                throw invalid(data, "more than the \(manifest.byteCount) bytes the manifest says")
            }
            try use(chunk)
        }
        if let problem = parser.finish() { throw invalid(data, problem) }
        guard total == manifest.byteCount else {
            throw invalid(data, "\(total) bytes, the manifest says \(manifest.byteCount)")
        }
        let digest = hash.finalize().hexString
        guard digest == manifest.sha256 else {
            throw invalid(data, "SHA-256 \(digest) does not match the manifest's \(manifest.sha256)")
        }
        guard parser.rows == manifest.rowCount else {
            throw invalid(data, "\(parser.rows) rows, the manifest says \(manifest.rowCount)")
        }
    }

    public static func invalid(_ file: URL, _ problem: String) -> TransactionFileError {
        TransactionFileError(.invalid, "\(file.path): \(problem)")
    }
}

/// An incremental checker of a PostgreSQL binary COPY stream's structure.
struct BinaryCopyParser {
    let expectedFields: Int
    private(set) var rows = 0
    private var pending: [UInt8] = []
    private var sawHeader = false
    private var sawTrailer = false

    init(expectedFields: Int) { self.expectedFields = expectedFields }

    /// Consumes the next bytes; returns the first problem found, if any.
    mutating func consume(_ data: Data) -> String? {
        pending.append(contentsOf: data)
        var at = 0
        defer { pending.removeFirst(at) }
        func int32(_ i: Int) -> Int32 {
            Int32(bitPattern: UInt32(pending[i]) << 24 | UInt32(pending[i + 1]) << 16
                  | UInt32(pending[i + 2]) << 8 | UInt32(pending[i + 3]))
        }
        if !sawHeader {
            let header = PostgresBinaryCopyWriter.header
            guard pending.count >= header.count else { return nil }
            guard Array(pending[0..<11]) == Array(header[0..<11]) else {
                return "not a PostgreSQL binary COPY stream (bad signature)"
            }
            let extensionLength = Int(int32(15))
            guard extensionLength == 0 else { return "unsupported header extension" }
            at = header.count
            sawHeader = true
        }
        while !sawTrailer {
            guard pending.count - at >= 2 else { return nil }
            let fields = Int(Int16(bitPattern: UInt16(pending[at]) << 8 | UInt16(pending[at + 1])))
            if fields == -1 {
                sawTrailer = true
                at += 2
                break
            }
            guard fields == expectedFields else {
                return "row \(rows + 1) has \(fields) fields, the manifest names \(expectedFields) columns"
            }
            // Walk the row's fields; stop and wait for more data if it is not all here.
            var cursor = at + 2
            for _ in 0..<fields {
                guard pending.count - cursor >= 4 else { return nil }
                let length = Int(int32(cursor))
                guard length >= -1 else { return "row \(rows + 1) has a field of length \(length)" }
                cursor += 4 + max(length, 0)
                guard pending.count >= cursor else { return nil }
            }
            at = cursor
            rows += 1
        }
        if sawTrailer && pending.count > at { return "bytes after the trailer" }
        return nil
    }

    /// Returns the problem when the stream ended early.
    func finish() -> String? {
        if !sawHeader { return "truncated header" }
        if !sawTrailer { return "truncated after row \(rows) (no trailer)" }
        if !pending.isEmpty { return "bytes after the trailer" }
        return nil
    }
}

/// A transaction file that cannot be written, read or trusted.
public struct TransactionFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The file system refused (create, write, fsync, rename).
        case fileError
        /// The file does not match its manifest, or is not a binary COPY stream.
        case invalid
        /// A row was written with another number of fields than it declared.
        case copyFailed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
