import Curation
public import Foundation
import Postgres
public import RPCContract
public import TransactionFormat
import SystemSupport
import Logging

extension CurationService {
    /// Tables a transaction file may never name: the server's own bookkeeping.
    static let protectedTables: Set<String> = [
        "curationlock", "loadledger", "programmecurationhistory", "schema_migrations",
    ]

    /// Whether `checksum` is a SHA-256 in lower-case hex.
    public static func isChecksum(_ checksum: String) -> Bool {
        checksum.utf8.count == 64 && checksum.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Where the spool keeps a transaction file's data and manifest.
    public func spoolFiles(_ checksum: String) -> (data: URL, manifest: URL) {
        (transactionDirectory.appendingPathComponent("\(checksum).\(TransactionFile.dataExtension)"),
         transactionDirectory.appendingPathComponent("\(checksum).\(TransactionFile.manifestExtension)"))
    }

    /// Loads the transaction file `checksum` from the spool into its table, in the step's
    /// transaction, exactly once: the LoadLedger row (keyed by the checksum) is written in the
    /// same transaction, so a file loaded before (by this step or a committed one) is not copied
    /// again and the first result is returned. The file is verified against its manifest first;
    /// a file that does not match, or names a table it may not, is refused and nothing is
    /// written. A load that fails leaves the step as it was (a savepoint), so the step can go on.
    public func load(token: FencingToken, cuEventID: Int, checksum: String) async throws -> LoadResult {
        guard Self.isChecksum(checksum) else {
            throw LoadServerError(.invalidArgument,
                                  "\"\(checksum.prefix(80))\" is not a transaction file checksum (64 lower-case hex digits)")
        }
        return try await threads.run { try self.loadBlocking(token: token, cuEventID: cuEventID, checksum: checksum) }
    }

    private func loadBlocking(token: FencingToken, cuEventID: Int, checksum: String) throws -> LoadResult {
        let started = ContinuousClock.now
        let step = try step(cuEventID, token: token)
        step.gate.lock()
        defer { step.gate.unlock() }
        if let reason = step.aborted {
            throw LoadServerError(.stepRolledBack, "run \(cuEventID) was rolled back: \(reason)")
        }
        let db = step.connection

        // Loaded before? (A committed load, or one earlier in this step.) Only a live lease
        // hears the answer: a holder whose lease was taken over is refused here as for a copy.
        try db.transaction { tx in try WriteLease.checkFence(token: token, on: tx) }
        if let first = try ledgerEntry(checksum, on: db) {
            return LoadResult(checksum: checksum, table: first.table, rows: first.rows, alreadyLoaded: true,
                              cuEventID: first.cuEventID, seconds: (ContinuousClock.now - started).secondsValue)
        }
        let files = spoolFiles(checksum)
        guard FileManager.default.fileExists(atPath: files.data.path),
              FileManager.default.fileExists(atPath: files.manifest.path) else {
            throw LoadServerError(.transactionFileMissing,
                                  "transaction file \(checksum) is not in the spool (\(transactionDirectory.path)): upload it, then load it")
        }
        let manifest: TransactionManifest
        do {
            manifest = try TransactionFile.manifest(for: files.data)
            guard manifest.sha256 == checksum else {
                throw LoadServerError(.transactionFileRefused,
                                      "transaction file \(checksum): its manifest names checksum \(manifest.sha256)")
            }
        } catch let error as TransactionFileError {
            throw LoadServerError(.transactionFileRefused, "transaction file refused: \(error.message)")
        }
        try checkLoadable(manifest, on: db)

        let copied: Int
        do {
            copied = try db.transaction { tx -> Int in
                try WriteLease.checkFence(token: token, on: tx)
                let inserted = try tx.execute("""
                    INSERT INTO LoadLedger (checksum, tableName, rowsLoaded, fileName, cuEventID)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checksum) DO NOTHING
                    """, [.text(checksum), .text(manifest.table), .int64(Int64(manifest.rowCount)),
                          .text(String(manifest.writer.prefix(512))), .int32(Int32(cuEventID))])
                guard inserted == 1 else { return -1 }
                // One pass: verified as it streams; any mismatch aborts the COPY.
                return try TransactionFile.verifyAndCopy(files.data, manifest: manifest, on: tx)
            }
        } catch let error as TransactionFileError {
            throw LoadServerError(.transactionFileRefused, "transaction file refused, nothing written: \(error.message)")
        } catch let error as PostgresError {
            if let lease = LoadServerError.lease(from: error) { throw lease }
            if step.aborted != nil || error.code == .connectionClosed || error.code == .connectionFailed {
                throw LoadServerError(.stepRolledBack,
                                      "run \(cuEventID) was rolled back during the load: \(step.aborted ?? error.message)")
            }
            throw LoadServerError(.transactionFileRefused,
                                  "transaction file \(checksum) into \(manifest.table) refused by PostgreSQL, nothing written: \(error.message)")
        }
        let seconds = (ContinuousClock.now - started).secondsValue
        if copied < 0 {
            // A concurrent step loaded it and committed while we verified.
            let first = try ledgerEntry(checksum, on: db)
            return LoadResult(checksum: checksum, table: manifest.table, rows: first?.rows ?? manifest.rowCount,
                              alreadyLoaded: true, cuEventID: first?.cuEventID ?? cuEventID, seconds: seconds)
        }
        step.recordLoad(checksum, rows: copied)
        observer(LoadObservation(table: manifest.table, rows: copied, bytes: manifest.byteCount,
                                 seconds: seconds, alreadyLoaded: false))
        logger.info("run \(cuEventID): loaded \(copied) rows into \(manifest.table) from \(checksum.prefix(12))… in \(String(format: "%.3f", seconds)) s")
        return LoadResult(checksum: checksum, table: manifest.table, rows: copied, alreadyLoaded: false,
                          cuEventID: cuEventID, seconds: seconds)
    }

    private func ledgerEntry(_ checksum: String, on db: PostgresConnection) throws
        -> (table: String, rows: Int, cuEventID: Int)?
    {
        try LoadServerError.mapping("read the load ledger") {
            let rows = try db.query("SELECT tableName, rowsLoaded, cuEventID FROM LoadLedger WHERE checksum = $1",
                                    [.text(checksum)])
            guard let row = rows.first else { return nil }
            return (try row.decode(String.self, "tablename"), try row.decode(Int.self, "rowsloaded"),
                    try row.decode(Int.self, "cueventid"))
        }
    }

    private func checkLoadable(_ manifest: TransactionManifest, on db: PostgresConnection) throws {
        let table = manifest.table.lowercased()
        guard !Self.protectedTables.contains(table) else {
            throw LoadServerError(.transactionFileRefused,
                                  "transaction file \(manifest.sha256): table \(manifest.table) is the server's own and cannot be loaded")
        }
        let known = try LoadServerError.mapping("look up table \(manifest.table)") {
            try db.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", [.text(table)])
        }
        guard !known.isEmpty else {
            throw LoadServerError(.transactionFileRefused,
                                  "transaction file \(manifest.sha256): no table \(manifest.table) in the database")
        }
        guard !manifest.columns.isEmpty, Set(manifest.columns.map { $0.lowercased() }).count == manifest.columns.count else {
            throw LoadServerError(.transactionFileRefused,
                                  "transaction file \(manifest.sha256): its columns are empty or repeated")
        }
    }

    /// Removes the spool files of a committed step's loads.
    func removeLoadedFiles(_ step: OpenStep) {
        let checksums = step.loadedChecksums
        for checksum in checksums {
            let files = spoolFiles(checksum)
            try? FileManager.default.removeItem(at: files.data)
            try? FileManager.default.removeItem(at: files.manifest)
        }
    }

    // MARK: Spool

    /// Stores an uploaded transaction file in the spool after checking it against its manifest.
    /// Returns the checksum to load it by. Storing a file that is already there is harmless.
    public func spool(manifestJSON: [UInt8], data: URL) async throws -> TransactionManifest {
        try await threads.run {
            let manifest: TransactionManifest
            do {
                manifest = try JSONDecoder().decode(TransactionManifest.self, from: Data(manifestJSON))
            } catch {
                throw LoadServerError(.transactionFileRefused, "the manifest is not a transaction manifest: \(error)")
            }
            guard manifest.format == TransactionManifest.currentFormat, Self.isChecksum(manifest.sha256) else {
                throw LoadServerError(.transactionFileRefused,
                                      "the manifest's format (\(manifest.format)) or checksum is not one this server loads")
            }
            do {
                try TransactionFile.verify(data, against: manifest)
            } catch let error as TransactionFileError {
                throw LoadServerError(.transactionFileRefused, "upload refused: \(error.message)")
            }
            // The data first, then its manifest: a file is loadable only once both are in place.
            let files = self.spoolFiles(manifest.sha256)
            do {
                try AtomicFile.commit(data.path, to: files.data.path)
                try AtomicFile.write(manifestJSON, to: files.manifest.path, permissions: 0o640)
            } catch {
                throw LoadServerError(.invalidArgument, "cannot store the upload in the spool: \(error)")
            }
            return manifest
        }
    }

    /// A new temporary file in the spool for an upload in progress.
    public func makeUploadFile() throws -> URL {
        try FileManager.default.createDirectory(at: transactionDirectory, withIntermediateDirectories: true)
        return transactionDirectory.appendingPathComponent(".up-\(UUID().uuidString).part")
    }
}
