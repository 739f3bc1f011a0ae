import Foundation
public import AppDriver
import RPCContract

extension DbHandler {
    /// Loads one CU9 batch within `step`: the earlier measurements of these frame sets' frames
    /// removed (`curation.cu9_clear`), the new ones into `table` (the programme's
    /// ListRemeasurement) through a transaction file, then `<prog>SourceRemeasurement` rows and
    /// the list-processed flags of the frame sets (`curation.cu9_finish`). Returns the sources
    /// written.
    public func loadRemeasurements(_ measurements: [ForcedMeasurement], into table: String, programmeID: Int32,
                                   frameSets: [Int64], in step: Step) async throws(WrapperError) -> Int64 {
        guard !frameSets.isEmpty else { return 0 }
        try await callProcedure("cu9_clear", [.int(Int64(programmeID)), .intArray(frameSets)], in: step)
        if !measurements.isEmpty {
            let data: TransactionData
            do {
                try FileManager.default.createDirectory(at: transactionDirectory, withIntermediateDirectories: true)
                data = try ArchiveTables.write(measurements, as: ListDrivenTables.listRemeasurement(table),
                                               cuEventID: Int32(step.cuEventID), into: transactionDirectory)
            } catch {
                throw WrapperError(.writeFailed, file: transactionDirectory.path, "\(table) transaction file: \(error)")
            }
            try await loadAll([data], in: step)
        }
        return try await callProcedure("cu9_finish", [.int(Int64(programmeID)), .int(Int64(step.cuEventID)), .intArray(frameSets)],
                                       in: step)
    }
}
