import Foundation
import XMLRPC
public import AppDriver
import RPCContract
import TransactionFormat

extension DbHandler {
    /// Reserves `count` ids of `table`'s identity column (Multiframe, TransferLog, Quarantine),
    /// for rows that refer to each other across transaction files.
    public func reserveIDs(_ table: String, count: Int) async throws(WrapperError) -> [Int64] {
        guard count > 0 else { return [] }
        let ids = try await write(RPC.ReserveIDs.self) { ($0, table, count) }
        guard ids.count == count else {
            throw WrapperError(.badResponse, "reserveIDs: asked for \(count) \(table) ids, got \(ids.count)")
        }
        return ids
    }

    /// Marks rows deprecated within `step` (TransferLog by transferID, Multiframe by
    /// multiframeID with its detectors); code 1 means superseded by a newer version.
    @discardableResult
    public func deprecate(_ table: String, ids: [Int64], code: Int = 1, in step: Step) async throws(WrapperError) -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await write(RPC.Deprecate.self) { .init(token: $0, cuEventID: step.cuEventID, table: table, ids: ids, code: code) }
    }

    /// Records transfers in TransferLog within `step`.
    public func logTransfers(_ records: [TransferRecord], in step: Step) async throws(WrapperError) {
        try await log(records, as: ArchiveTables.transferLog, in: step)
    }

    /// Records one CU1 batch within `step`: its transfers, the versions they supersede
    /// (deprecated in TransferLog) and the files set aside.
    public func logTransfers(_ batch: TransferBatch, in step: Step) async throws(WrapperError) {
        try await logTransfers(batch.transfers, in: step)
        try await deprecate("TransferLog", ids: batch.superseded, in: step)
        try await logQuarantine(batch.quarantined, in: step)
    }

    /// Loads one CU3 batch within `step`: Multiframe, MultiframeDetector and CurrentAstrometry
    /// through transaction files, the superseded frames deprecated, the files set aside recorded.
    public func loadFrames(_ batch: FrameBatch, in step: Step) async throws(WrapperError) {
        if !batch.frames.isEmpty {
            let files: [TransactionData]
            do {
                try FileManager.default.createDirectory(at: transactionDirectory, withIntermediateDirectories: true)
                files = try ImageMetadataLoad.makeTransactionData(batch.frames, into: transactionDirectory)
            } catch let error as WrapperError {
                throw error
            } catch {
                throw WrapperError(.writeFailed, file: transactionDirectory.path, "Multiframe transaction files: \(error)")
            }
            try await loadAll(files, in: step)
        }
        try await deprecate("Multiframe", ids: batch.superseded, in: step)
        try await logQuarantine(batch.quarantined, in: step)
    }

    /// Records files set aside in Quarantine within `step`.
    public func logQuarantine(_ records: [QuarantineRecord], in step: Step) async throws(WrapperError) {
        try await log(records, as: ArchiveTables.quarantine, in: step)
    }

    /// Records the JPEG library images made within `step`.
    public func logCompressedImages(_ records: [CompressionRecord], in step: Step) async throws(WrapperError) {
        try await log(records, as: ArchiveTables.compressedImage, in: step)
    }

    /// Records the catalogues whose detections `step` loaded.
    public func logCatalogueIngest(_ records: [CatalogueIngestRecord], in step: Step) async throws(WrapperError) {
        try await log(records, as: ArchiveTables.catalogueIngest, in: step)
    }

    /// Records the inputs of products made within `step` (Provenance).
    public func logProvenance(_ records: [ProvenanceRecord], in step: Step) async throws(WrapperError) {
        try await log(records, as: ArchiveTables.provenance, in: step)
    }

    /// Loads transaction files within `step`, in order; returns the rows loaded. (The server
    /// removes spooled files when the step commits.)
    @discardableResult
    public func loadAll(_ files: [TransactionData], in step: Step) async throws(WrapperError) -> Int {
        var rows = 0
        for file in files { rows += try await loadTransactionData(file, in: step).rows }
        return rows
    }

    /// Loads `records` into `table` within `step` through one transaction file (nothing when empty).
    private func log<Record>(_ records: [Record], as table: TableColumns<ArchiveTables.Run<Record>>,
                             in step: Step) async throws(WrapperError) {
        guard !records.isEmpty else { return }
        let data: TransactionData
        do {
            try FileManager.default.createDirectory(at: transactionDirectory, withIntermediateDirectories: true)
            data = try ArchiveTables.write(records, as: table, cuEventID: Int32(step.cuEventID), into: transactionDirectory)
        } catch {
            throw WrapperError(.writeFailed, file: transactionDirectory.path, "\(table.table) transaction file: \(error)")
        }
        _ = try await loadAll([data], in: step)
    }
}
