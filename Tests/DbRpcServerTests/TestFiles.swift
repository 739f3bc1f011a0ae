import Foundation
import Postgres
import TransactionFormat

/// Transaction files of Quarantine rows (a simple table every schema has), tagged so that the
/// rows of each file can be counted.
enum TestFiles {
    static let columns = ["fileName", "reason", "cuEventID"]

    /// Writes `rows` rows tagged `tag` into `directory`; returns the manifest and data file.
    static func quarantine(rows: Int, tag: String, into directory: URL) throws -> (manifest: TransactionManifest, data: URL) {
        try TransactionFile.write(to: directory, table: "Quarantine", columns: columns, writer: "test \(tag)") { w in
            for i in 0..<rows {
                try w.beginRow(fieldCount: 3)
                w.write("\(tag)/file\(i).fits")
                w.write("test row \(i) of \(tag)")
                w.write(Int32(0))
            }
        }
    }

    /// Rows of `tag` in Quarantine.
    static func count(_ tag: String, in conninfo: String) throws -> Int {
        let db = try PostgresConnection(conninfo)
        defer { db.close() }
        return try db.queryValue(Int.self, "SELECT count(*) FROM Quarantine WHERE fileName LIKE \(tag + "/%")")
    }
}
