public import Foundation

/// A value a binary COPY field can hold, in the column type it must match exactly
/// (``PostgresBinaryCopyWriter``).
public protocol CopyField: Sendable {
    func write(to writer: PostgresBinaryCopyWriter)
}

extension Int16: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension Int32: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension Int64: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension Float: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension Double: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension Bool: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }
extension String: CopyField { public func write(to writer: PostgresBinaryCopyWriter) { writer.write(self) } }

/// A table's columns as a row writer sees them: one list of (column, value of a row), as
/// DaCHS's table definitions drive its COPY. The manifest's column names and the fields of
/// every row come from the same list, so a column cannot be named without its value, nor
/// written in another place than its name.
///
/// ```swift
/// static let provenance = TableColumns<ProvenanceRecord>("Provenance", [
///     .init("combiframeID") { $0.combiframeID },
///     .init("multiframeID") { $0.multiframeID },
///     .init("inputOrder") { $0.inputOrder },
/// ])
/// ```
public struct TableColumns<Row>: Sendable {
    /// One column: its name and how a row gives its value.
    public struct Column: Sendable {
        public let name: String
        let write: @Sendable (Row, PostgresBinaryCopyWriter) -> Void

        public init<Value: CopyField>(_ name: String, _ value: @escaping @Sendable (Row) -> Value) {
            self.name = name
            self.write = { row, writer in value(row).write(to: writer) }
        }
    }

    public let table: String
    public let columns: [Column]

    public init(_ table: String, _ columns: [Column]) {
        precondition(Set(columns.map { $0.name.lowercased() }).count == columns.count, "\(table) names a column twice")
        self.table = table
        self.columns = columns
    }

    /// The column names, in field order.
    public var names: [String] { columns.map(\.name) }

    /// Writes one row: every column's value, in order.
    public func write(_ row: Row, to writer: PostgresBinaryCopyWriter) throws {
        try writer.beginRow(fieldCount: columns.count)
        for column in columns { column.write(row, writer) }
    }

    /// A transaction file of `rows` in `directory` (``TransactionFile/write(to:table:columns:writer:_:)``).
    public func transactionFile(_ rows: [Row], into directory: URL, writer: String) throws
        -> (manifest: TransactionManifest, data: URL)
    {
        try TransactionFile.write(to: directory, table: table, columns: names, writer: writer) { w in
            for row in rows { try write(row, to: w) }
        }
    }
}
