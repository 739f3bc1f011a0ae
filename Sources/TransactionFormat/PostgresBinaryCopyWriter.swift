/// Encodes rows in PostgreSQL's binary COPY format into a buffer and hands full buffers to a
/// sink: the server (through `PostgresConnection.copyBinary`) or a file (transaction files).
///
/// The stream is the 19-byte header, then per row an int16 field count and per field an int32
/// byte length (-1 for NULL) and the value in network byte order, then the int16 trailer -1.
/// Writing a field copies a few bytes into the buffer and allocates nothing.
///
/// ```swift
/// try writer.beginRow(fieldCount: 3)
/// writer.write(multiframeID)   // Int64 → bigint
/// writer.write(ra)             // Double → double precision
/// writer.write(classStat)      // Float? → real or NULL
/// ```
/// Field types must match the target columns exactly (Int16 smallint, Int32 integer,
/// Int64 bigint, Float real, Double double precision, Bool boolean, String text/varchar,
/// bytes bytea): binary COPY does not convert.
public final class PostgresBinaryCopyWriter {
    /// The fixed header of a binary COPY stream: signature, flags (0), extension length (0).
    public static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
        + [0, 0, 0, 0] + [0, 0, 0, 0]
    /// The trailer of a binary COPY stream (a field count of -1).
    public static let trailer: [UInt8] = [0xFF, 0xFF]

    /// The hot counters live behind a pointer: stored properties of a class pay a dynamic
    /// exclusivity check on every access, which costs about a third of the encoding time.
    @usableFromInline struct Cursor {
        @usableFromInline var position = 0
        @usableFromInline var fieldsInRow = 0
        @usableFromInline var declaredFields = 0
        @usableFromInline var rows = 0
        @usableFromInline var failed = false
    }

    @usableFromInline let buffer: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline let cursor: UnsafeMutablePointer<Cursor>
    private var failure: (any Error)?
    private var flushedBytes = 0
    private var finished = false
    private let sink: (UnsafeRawBufferPointer) throws -> Void

    /// A writer that passes each full buffer (`bufferSize` bytes, at least 4 KiB) to `sink`.
    /// The header is written first, unless `writeHeader` is false (for appending rows to a
    /// stream that already has one).
    public init(bufferSize: Int = 1 << 20, writeHeader: Bool = true,
                sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        capacity = max(bufferSize, 4096)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        cursor = UnsafeMutablePointer<Cursor>.allocate(capacity: 1)
        cursor.initialize(to: Cursor())
        self.sink = sink
        if writeHeader {
            Self.header.withUnsafeBytes { append($0) }
        }
    }

    deinit {
        buffer.deallocate()
        cursor.deinitialize(count: 1)
        cursor.deallocate()
    }

    /// Rows begun so far.
    public var rowCount: Int { cursor.pointee.rows }

    /// Bytes produced so far (handed to the sink or still buffered).
    public var byteCount: Int { flushedBytes + cursor.pointee.position }

    /// Starts a row of `fieldCount` fields. Throws when the previous row had a different number
    /// of fields than it declared, or when the sink has failed.
    @inlinable
    public func beginRow(fieldCount: Int) throws {
        if cursor.pointee.declaredFields != cursor.pointee.fieldsInRow || cursor.pointee.failed { try rowCheckFailed() }
        reserve(2)
        buffer.storeBytes(of: Int16(truncatingIfNeeded: fieldCount).bigEndian,
                          toByteOffset: cursor.pointee.position, as: Int16.self)
        cursor.pointee.position &+= 2
        cursor.pointee.declaredFields = fieldCount
        cursor.pointee.fieldsInRow = 0
        cursor.pointee.rows &+= 1
    }

    @inlinable
    public func writeNull() {
        reserve(4)
        buffer.storeBytes(of: Int32(-1).bigEndian, toByteOffset: cursor.pointee.position, as: Int32.self)
        cursor.pointee.position &+= 4
        cursor.pointee.fieldsInRow &+= 1
    }

    @inlinable
    public func write(_ value: Int16) {
        reserve(6)
        buffer.storeBytes(of: Int32(2).bigEndian, toByteOffset: cursor.pointee.position, as: Int32.self)
        buffer.storeBytes(of: value.bigEndian, toByteOffset: cursor.pointee.position &+ 4, as: Int16.self)
        cursor.pointee.position &+= 6
        cursor.pointee.fieldsInRow &+= 1
    }

    @inlinable
    public func write(_ value: Int32) {
        reserve(8)
        buffer.storeBytes(of: Int32(4).bigEndian, toByteOffset: cursor.pointee.position, as: Int32.self)
        buffer.storeBytes(of: value.bigEndian, toByteOffset: cursor.pointee.position &+ 4, as: Int32.self)
        cursor.pointee.position &+= 8
        cursor.pointee.fieldsInRow &+= 1
    }

    @inlinable
    public func write(_ value: Int64) {
        reserve(12)
        buffer.storeBytes(of: Int32(8).bigEndian, toByteOffset: cursor.pointee.position, as: Int32.self)
        buffer.storeBytes(of: value.bigEndian, toByteOffset: cursor.pointee.position &+ 4, as: Int64.self)
        cursor.pointee.position &+= 12
        cursor.pointee.fieldsInRow &+= 1
    }

    @inlinable
    public func write(_ value: Float) {
        write(Int32(bitPattern: value.bitPattern))
    }

    @inlinable
    public func write(_ value: Double) {
        write(Int64(bitPattern: value.bitPattern))
    }

    @inlinable
    public func write(_ value: Bool) {
        reserve(5)
        buffer.storeBytes(of: Int32(1).bigEndian, toByteOffset: cursor.pointee.position, as: Int32.self)
        buffer.storeBytes(of: value ? 1 : 0, toByteOffset: cursor.pointee.position &+ 4, as: UInt8.self)
        cursor.pointee.position &+= 5
        cursor.pointee.fieldsInRow &+= 1
    }

    /// A text value (for text, varchar, char columns).
    @inlinable
    public func write(_ value: String) {
        var value = value
        value.withUTF8 { writeField(UnsafeRawBufferPointer($0)) }
    }

    /// A bytea value.
    @inlinable
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeField($0) }
    }

    @inlinable public func write(_ value: Int16?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: Int32?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: Int64?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: Float?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: Double?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: Bool?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: String?) { if let value { write(value) } else { writeNull() } }
    @inlinable public func write(_ value: [UInt8]?) { if let value { write(value) } else { writeNull() } }

    /// One field whose value bytes are already in the binary format of the target column
    /// (e.g. big-endian numbers straight out of a FITS binary table, or text bytes).
    @inlinable
    public func writeField(_ value: UnsafeRawBufferPointer) {
        let count = value.count
        reserve(4)
        buffer.storeBytes(of: Int32(truncatingIfNeeded: count).bigEndian,
                          toByteOffset: cursor.pointee.position, as: Int32.self)
        cursor.pointee.position &+= 4
        cursor.pointee.fieldsInRow &+= 1
        append(value)
    }

    /// Complete rows already encoded (each an int16 field count then its fields), e.g. read
    /// back from a transaction file. `rowCount` is how many rows the bytes hold.
    public func writeEncodedRows(_ bytes: UnsafeRawBufferPointer, rowCount: Int) throws {
        if cursor.pointee.declaredFields != cursor.pointee.fieldsInRow || cursor.pointee.failed { try rowCheckFailed() }
        append(bytes)
        cursor.pointee.rows += rowCount
    }

    /// Hands every complete row to the sink without the trailer: rows encoded now, to be given
    /// to ``writeEncodedRows(_:rowCount:)`` of another writer later. Returns the number of rows.
    @discardableResult
    public func finishRows() throws -> Int {
        guard !finished else { return cursor.pointee.rows }
        if cursor.pointee.declaredFields != cursor.pointee.fieldsInRow || cursor.pointee.failed { try rowCheckFailed() }
        flush()
        if let failure { throw failure }
        finished = true
        return cursor.pointee.rows
    }

    /// Writes the trailer and hands everything left to the sink. Returns the number of rows.
    @discardableResult
    public func finish() throws -> Int {
        guard !finished else { return cursor.pointee.rows }
        if cursor.pointee.declaredFields != cursor.pointee.fieldsInRow || cursor.pointee.failed { try rowCheckFailed() }
        Self.trailer.withUnsafeBytes { append($0) }
        flush()
        if let failure { throw failure }
        finished = true
        return cursor.pointee.rows
    }

    /// Makes room for `count` more bytes (`count` ≤ 16).
    @inlinable @inline(__always)
    func reserve(_ count: Int) {
        if cursor.pointee.position &+ count > capacity { flush() }
    }

    /// Copies bytes into the buffer, passing large values straight to the sink.
    @usableFromInline
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if cursor.pointee.position + bytes.count <= capacity {
            buffer.advanced(by: cursor.pointee.position).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            cursor.pointee.position += bytes.count
            return
        }
        flush()
        if bytes.count <= capacity / 2 {
            buffer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            cursor.pointee.position = bytes.count
        } else {
            send(bytes)
        }
    }

    @usableFromInline
    func flush() {
        guard cursor.pointee.position > 0 else { return }
        send(UnsafeRawBufferPointer(start: buffer, count: cursor.pointee.position))
        cursor.pointee.position = 0
    }

    private func send(_ bytes: UnsafeRawBufferPointer) {
        flushedBytes += bytes.count
        guard failure == nil else { return }
        do {
            try sink(bytes)
        } catch {
            failure = error
            cursor.pointee.failed = true
        }
    }

    @usableFromInline
    func rowCheckFailed() throws {
        if let failure { throw failure }
        let error = TransactionFileError(.copyFailed,
                                  "row \(cursor.pointee.rows) has \(cursor.pointee.fieldsInRow) fields but declared \(cursor.pointee.declaredFields)")
        failure = error
        cursor.pointee.failed = true
        throw error
    }
}
