import Foundation
import Postgres
import RPCContract

/// A step in progress: its own connection with an open transaction that began with the write
/// fence of its lease's token, so no newer grant can commit while it is open.
final class OpenStep: @unchecked Sendable {
    let cuEventID: Int
    let token: FencingToken
    let holder: String
    let connection: PostgresConnection
    let backendPID: Int32
    let openedAt = Date()

    /// Serialises the calls on this step (a connection does one thing at a time).
    let gate = NSLock()
    /// Checksums loaded in this step, and their rows.
    private(set) var loaded: [String: Int] = [:]
    /// Why the server rolled the step back, once it did.
    private(set) var abortReason: String?
    private let state = NSLock()

    init(cuEventID: Int, token: FencingToken, holder: String, connection: PostgresConnection) {
        self.cuEventID = cuEventID
        self.token = token
        self.holder = holder
        self.connection = connection
        self.backendPID = connection.backendPID
    }

    func recordLoad(_ checksum: String, rows: Int) {
        state.lock(); defer { state.unlock() }
        loaded[checksum] = rows
    }

    /// Marks the step aborted; false when it already was.
    func markAborted(_ reason: String) -> Bool {
        state.lock(); defer { state.unlock() }
        guard abortReason == nil else { return false }
        abortReason = reason
        return true
    }

    var aborted: String? {
        state.lock(); defer { state.unlock() }
        return abortReason
    }

    var loadedChecksums: [String] {
        state.lock(); defer { state.unlock() }
        return Array(loaded.keys)
    }

    var loadSummary: (loads: Int, rows: Int) {
        state.lock(); defer { state.unlock() }
        return (loaded.count, loaded.values.reduce(0, +))
    }
}
