public import Foundation
public import TransactionFormat

extension TransactionFile {
    /// Verifies a data file against its manifest and COPYs it into the manifest's table in the
    /// same single pass: every chunk is hashed and its structure checked before it is sent, and
    /// a problem found anywhere (size, SHA-256, field or row count) aborts the COPY with a
    /// ``TransactionFileError``, so nothing of a bad file is written. Returns the rows copied.
    /// Run it inside a transaction.
    public static func verifyAndCopy(_ data: URL, manifest: TransactionManifest,
                                     on connection: PostgresConnection) throws -> Int {
        let rows = try connection.copyIn(into: manifest.table, columns: manifest.columns, format: .binary) { stream in
            try check(data, against: manifest) { chunk in try chunk.withUnsafeBytes { try stream.send($0) } }
        }
        guard rows == manifest.rowCount else {
            throw invalid(data, "COPY took \(rows) rows, the manifest says \(manifest.rowCount)")
        }
        return rows
    }
}
