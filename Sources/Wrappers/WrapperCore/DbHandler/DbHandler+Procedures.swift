public import AppDriver
import Foundation
import Logging
public import RPCContract

extension DbHandler {
    /// Runs the SQL function `curation.<name>(arguments…)` on the load server within `step`,
    /// for whole-table work that is better done next to the data than row by row through
    /// transaction files. Its writes become visible when the step commits, never if it fails.
    /// Returns the count the function returns.
    ///
    /// Arguments are passed as `bigint` (``ProcedureArgument/int(_:)``), `double precision`,
    /// `text` and `bigint[]` (``ProcedureArgument/intArray(_:)``): at most 16, texts of at most
    /// 10000 characters, arrays of at most 1000000 ids (a request of 16 MiB, the server's
    /// default limit, holds about 400000). A name that is no function of schema `curation`, or
    /// arguments it does not take, are refused with the fault ``ServerFault/invalidArgument``
    /// and nothing runs. A function that fails throws ``ServerFault/databaseError`` whose text
    /// is `curation.<name>: <its message>`; the step is left as it was and can go on.
    ///
    /// ```swift
    /// let merged = try await db.callProcedure("cu8_merge", [.int(programmeID), .intArray(frameSetIDs)], in: step)
    /// ```
    @discardableResult
    public func callProcedure(_ name: String, _ arguments: [ProcedureArgument], in step: Step)
        async throws(WrapperError) -> Int64
    {
        let started = ContinuousClock.now
        let count = try await write(RPC.CallProcedure.self) {
            .init(token: $0, cuEventID: step.cuEventID, name: name, arguments: arguments)
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        logger.info("run \(step.cuEventID): curation.\(name) returned \(count) in \(String(format: "%.1f", seconds)) s")
        return count
    }
}
