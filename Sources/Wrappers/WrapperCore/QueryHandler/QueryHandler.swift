public import Curation
import Foundation
import Postgres
public import AppDriver

/// Read-only questions to the archive database (seed 004 §6.1), straight over libpq as the
/// read-only role (`[database] reader_url`, `wsa_reader`: SELECT grants only). Every session
/// sets a statement timeout and turns JIT off (q3c cone searches are ~300× slower with it);
/// the role itself is read-only by its grants, whatever a session sets.
public final class QueryHandler: Sendable {
    let connection: PostgresConnection

    /// Connects as the reader role with `statementTimeout` per statement.
    public convenience init(config: WSAConfig, statementTimeout: Duration = .seconds(300)) throws(WrapperError) {
        try self.init(conninfo: config.database.readerURL, statementTimeout: statementTimeout)
    }

    /// Connects to `conninfo` (which should name the read-only role).
    public init(conninfo: String, statementTimeout: Duration = .seconds(300)) throws(WrapperError) {
        do {
            connection = try PostgresConnection(conninfo, applicationName: "wsa queryhandler")
            try connection.setStatementTimeout(statementTimeout)
            try connection.setParameter("jit", to: "off")
            try connection.setParameter("default_transaction_read_only", to: "on")
        } catch let error as PostgresError {
            throw WrapperError(.unavailable, "cannot open a read-only session (\(WSAConfig.redact(conninfo: conninfo))): \(error.message)")
        } catch {
            throw WrapperError(.unavailable, "\(error)")
        }
    }

    /// Closes the session.
    public func close() { connection.close() }

    /// A result of ``freeQuery(_:rowLimit:)``: column names, rows as text (nil for NULL), and
    /// whether the row limit cut it short.
    public struct Table: Sendable, Equatable {
        public var columns: [String]
        public var rows: [[String?]]
        public var truncated: Bool
    }

    /// Runs one SELECT of the caller's own (archive users' free SQL, OF3) and returns at most
    /// `rowLimit` rows, saying when there were more. Writes fail: the role has no grant for them.
    public func freeQuery(_ sql: String, rowLimit: Int = 10_000) throws(WrapperError) -> Table {
        let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        guard !trimmed.isEmpty else { throw WrapperError(.refused, "empty query") }
        guard !trimmed.contains(";") else {
            throw WrapperError(.refused, "one statement at a time, please (no ';' inside)")
        }
        let limit = max(1, rowLimit)
        return try run("free query") {
            let rows = try connection.query("SELECT * FROM (\(trimmed)) AS q LIMIT \(limit + 1)", [])
            let columns = rows.columns
            var table: [[String?]] = []
            for (index, row) in rows.enumerated() where index < limit {
                table.append((0..<columns.count).map { try? row.decode(String?.self, at: $0) ?? nil })
            }
            return Table(columns: columns, rows: table, truncated: rows.count > limit)
        }
    }

    /// The programmes: name → programmeID.
    public func programmes() throws(WrapperError) -> [String: Int] {
        try run("list programmes") {
            var result: [String: Int] = [:]
            for row in try connection.query("SELECT name, programmeID FROM Programme WHERE programmeID > 0", []) {
                result[try row.decode(String.self, "name")] = try row.decode(Int.self, "programmeid")
            }
            return result
        }
    }

    /// Rows in `table` (a known table; `cuEventID` restricts to one run).
    public func rowCount(_ table: String, cuEventID: Int? = nil) throws(WrapperError) -> Int {
        try run("count rows of \(table)") {
            let name = try PostgresIdentifier(table)
            if let cuEventID {
                return try connection.queryValue(Int.self, "SELECT count(*) FROM \(identifier: name) WHERE cuEventID = \(cuEventID)")
            }
            return try connection.queryValue(Int.self, "SELECT count(*) FROM \(identifier: name)")
        }
    }

    /// Whether the transaction file with this checksum is in the LoadLedger (committed).
    public func isLoaded(checksum: String) throws(WrapperError) -> Bool {
        try run("read the load ledger") {
            !(try connection.query("SELECT 1 FROM LoadLedger WHERE checksum = $1", [.text(checksum)]).isEmpty)
        }
    }

    /// The status of run `cuEventID` (started, succeeded, failed), nil if there is none.
    public func runStatus(_ cuEventID: Int) throws(WrapperError) -> String? {
        try run("read run \(cuEventID)") {
            try connection.query("SELECT status FROM ProgrammeCurationHistory WHERE cuEventID = $1",
                                 [.int32(Int32(clamping: cuEventID))]).first.map { try $0.decode(String.self, "status") }
        }
    }

    func run<T>(_ what: String, _ body: () throws -> T) throws(WrapperError) -> T {
        do {
            return try body()
        } catch let error as WrapperError {
            throw error
        } catch let error as PostgresError {
            switch error.sqlState {
            case "57014": throw WrapperError(.timeout, "\(what): cancelled by the statement timeout")
            case "42501", "25006": throw WrapperError(.refused, "\(what): not allowed for the read-only role (\(error.message))")
            default: throw WrapperError(.queryFailed, "\(what): \(error.message)")
            }
        } catch {
            throw WrapperError(.queryFailed, "\(what): \(error)")
        }
    }
}
