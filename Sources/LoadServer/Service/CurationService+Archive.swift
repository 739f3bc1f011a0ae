import Curation
import Foundation
import Postgres
public import RPCContract

extension CurationService {
    /// Tables whose identity a CU may reserve, and their identity column.
    static let identityColumns: [String: String] = [
        "multiframe": "multiframeid", "transferlog": "transferid", "quarantine": "quarantineid",
    ]

    /// What a run may mark as deprecated, and the tables that follow.
    static let deprecatable: [String: (key: String, tables: [String])] = [
        "transferlog": ("transferID", ["TransferLog"]),
        "multiframe": ("multiframeID", ["Multiframe", "MultiframeDetector"]),
    ]

    /// Reserves `count` ids of `table`'s identity column (Multiframe, TransferLog, Quarantine),
    /// so a CU can write rows that refer to each other in one set of transaction files. Ids come
    /// from the column's sequence: never handed out twice, with gaps when a run rolls back.
    public func reserveIDs(token: FencingToken, table: String, count: Int) async throws -> [Int64] {
        guard let column = Self.identityColumns[table.lowercased()] else {
            throw LoadServerError(.invalidArgument,
                                  "ids can be reserved for \(Self.identityColumns.keys.sorted().joined(separator: ", ")), not \(table)")
        }
        guard (1...1_000_000).contains(count) else {
            throw LoadServerError(.invalidArgument, "count should be 1 to 1000000, not \(count)")
        }
        return try await threads.run {
            try self.connections.withConnection { db in
                try LoadServerError.mapping("reserve \(count) \(table) ids") {
                    try db.transaction { tx -> [Int64] in
                        try WriteLease.checkFence(token: token, on: tx)
                        return try tx.query("""
                            SELECT nextval(pg_get_serial_sequence($1, $2)) AS id FROM generate_series(1, $3)
                            """, [.text(table.lowercased()), .text(column), .int32(Int32(count))])
                            .map { try $0.decode(Int64.self, "id") }
                    }
                }
            }
        }
    }

    /// Marks rows of `table` (TransferLog, or Multiframe with its MultiframeDetector rows)
    /// deprecated with `code` within run `cuEventID`: visible when the run commits, never if it
    /// rolls back. Returns the number of `table` rows changed.
    public func deprecate(token: FencingToken, cuEventID: Int, table: String, ids: [Int64], code: Int) async throws -> Int {
        guard let target = Self.deprecatable[table.lowercased()] else {
            throw LoadServerError(.invalidArgument, "only TransferLog and Multiframe rows can be deprecated, not \(table)")
        }
        guard (1...Int(Int16.max)).contains(code) else {
            throw LoadServerError(.invalidArgument, "deprecation code should be 1 to 32767, not \(code)")
        }
        guard !ids.isEmpty else { return 0 }
        return try await threads.run {
            let step = try self.step(cuEventID, token: token)
            step.gate.lock()
            defer { step.gate.unlock() }
            if let reason = step.aborted {
                throw LoadServerError(.stepRolledBack, "run \(cuEventID) was rolled back: \(reason)")
            }
            let list = "{" + ids.map(String.init).joined(separator: ",") + "}"
            return try LoadServerError.mapping("deprecate \(ids.count) \(table) rows") {
                try step.connection.transaction { tx -> Int in
                    try WriteLease.checkFence(token: token, on: tx)
                    var first = -1
                    for name in target.tables {
                        let n = try tx.execute("""
                            UPDATE \(name) SET deprecated = $1 WHERE \(target.key) = ANY($2::bigint[]) AND deprecated = 0
                            """, [.int16(Int16(code)), .text(list)])
                        if first < 0 { first = n }
                    }
                    return first
                }
            }
        }
    }
}
