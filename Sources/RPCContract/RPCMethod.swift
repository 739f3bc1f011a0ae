/// The XML-RPC methods of dbrpcserver, by name: the one list both ends of the wire use
/// (`DbHandler` calls them, `LoadServerMethods` registers them).
public enum RPCMethod: String, CaseIterable, Sendable {
    case serverInfo
    case leaseStatus
    case writeLock
    case heartbeat
    case writeUnlock
    case beginStep
    case updateCurationLog
    case loadTransactionData
    case uploadTransactionFile
    case listRuns
    case failedRuns
    case resume
    case reserveIDs
    case deprecate
    case callProcedure
}
