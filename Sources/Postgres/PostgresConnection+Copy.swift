import CLibPQ
import Foundation
import SystemSupport
public import TransactionFormat

/// The data format of a `COPY … FROM STDIN`.
public enum PostgresCopyFormat: Sendable, Hashable {
    case binary
    case text
    case csv(header: Bool)

    var options: String {
        switch self {
        case .binary: return "FORMAT binary"
        case .text: return "FORMAT text"
        case .csv(let header): return "FORMAT csv, HEADER \(header)"
        }
    }
}

/// The open data channel of a `COPY … FROM STDIN`; valid only inside the `copyIn` body.
public final class PostgresCopyInStream {
    private let handle: OpaquePointer
    fileprivate var isOpen = true
    fileprivate var sendFailed = false
    /// Bytes sent so far.
    public private(set) var byteCount = 0

    fileprivate init(handle: OpaquePointer) { self.handle = handle }

    /// Sends COPY data. Chunks may split rows anywhere.
    public func send(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else {
            throw PostgresError(code: .copyFailed, message: "the COPY is over; the stream was used after its body")
        }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            let status = PQputCopyData(handle, bytes.baseAddress!.advanced(by: offset)
                .assumingMemoryBound(to: CChar.self), Int32(n))
            guard status == 1 else {
                sendFailed = true
                throw PostgresError(code: .copyFailed,
                                    message: PostgresError.oneLine(String(cString: PQerrorMessage(handle))))
            }
            offset += n
        }
        byteCount += bytes.count
    }

    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send($0) }
    }
}

extension PostgresConnection {
    /// Streams rows into `table` through `COPY table (columns) FROM STDIN (FORMAT binary)`,
    /// encoded by `body` with a binary writer whose full buffers (`bufferSize` bytes) go
    /// straight to the server. Returns the number of rows the server copied. If `body` throws,
    /// the COPY is aborted (nothing is copied) and the error is rethrown.
    @discardableResult
    public func copyBinary(into table: String, columns: [String], bufferSize: Int = 1 << 20,
                           _ body: (PostgresBinaryCopyWriter) throws -> Void) throws -> Int {
        try copyIn(into: table, columns: columns, format: .binary) { stream in
            let writer = PostgresBinaryCopyWriter(bufferSize: bufferSize) { try stream.send($0) }
            try body(writer)
            try writer.finish()
        }
    }

    /// Streams COPY data that is already encoded in `format` (for `.binary`, a complete stream
    /// with header and trailer) into `table`, as `body` sends it. Returns the rows copied.
    @discardableResult
    public func copyIn(into table: String, columns: [String], format: PostgresCopyFormat = .binary,
                       _ body: (PostgresCopyInStream) throws -> Void) throws -> Int {
        let target = try PostgresIdentifier(table)
        let names = try columns.map { try PostgresIdentifier($0).sql }
        let columnList = names.isEmpty ? "" : " (" + names.joined(separator: ", ") + ")"
        let sql = "COPY \(target)\(columnList) FROM STDIN (\(format.options))"
        let operation = "COPY \(target)"

        return try withHandle { handle in
            let start = PQexec(handle, sql)
            guard let start, PQresultStatus(start) == PGRES_COPY_IN else {
                let error = PostgresError.from(result: start, connection: handle, code: .copyFailed,
                                               operation: operation, statement: sql)
                if let start { PQclear(start) }
                while let extra = PQgetResult(handle) { PQclear(extra) }
                throw error
            }
            PQclear(start)

            let stream = PostgresCopyInStream(handle: handle)
            var bodyError: (any Error)?
            do {
                try body(stream)
            } catch {
                bodyError = error
            }
            stream.isOpen = false

            if let bodyError, !stream.sendFailed {
                _ = PQputCopyEnd(handle, "aborted by the client: \(bodyError)")
                while let result = PQgetResult(handle) { PQclear(result) }
                throw bodyError
            }
            let endStatus = stream.sendFailed ? -1 : PQputCopyEnd(handle, nil)

            // The server's verdict: the first result that is not a success wins.
            var copied: Int?
            var serverError: PostgresError?
            while let result = PQgetResult(handle) {
                if PQresultStatus(result) == PGRES_COMMAND_OK {
                    copied = Int(String(cString: PQcmdTuples(result)))
                } else if serverError == nil {
                    serverError = PostgresError.from(result: result, connection: handle, code: .copyFailed,
                                                     operation: operation, statement: sql)
                }
                PQclear(result)
            }
            if let serverError { throw serverError }
            if let bodyError { throw bodyError }
            guard endStatus == 1, let copied else {
                throw PostgresError.from(result: nil, connection: handle, code: .copyFailed,
                                         operation: operation, statement: sql)
            }
            return copied
        }
    }

    /// Streams a file of COPY data in `format` (for `.binary`, a complete stream with header and
    /// trailer, such as a transaction file) into `table`, 1 MiB at a time. Returns the rows copied.
    @discardableResult
    public func copyIn(into table: String, columns: [String], format: PostgresCopyFormat = .binary,
                       contentsOf path: String) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw PostgresError(code: .fileError,
                                message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { Foundation.close(fd) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        return try copyIn(into: table, columns: columns, format: format) { stream in
            while true {
                let n: Int
                do throws(SystemCallError) {
                    n = try syscall("read", path: path) { read(fd, buffer, chunk) }
                } catch {
                    throw PostgresError(code: .fileError, message: "cannot read \(path): \(error.reason)")
                }
                if n == 0 { break }
                try stream.send(UnsafeRawBufferPointer(start: buffer, count: n))
            }
        }
    }
}
