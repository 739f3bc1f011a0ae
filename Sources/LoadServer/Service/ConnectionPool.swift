import Foundation
import Postgres
import RPCContract

/// Database connections shared by the server's short operations (lease control, run records).
/// Blocking: use it from ``ThreadPool`` threads only.
final class ConnectionPool: @unchecked Sendable {
    let conninfo: String
    let applicationName: String
    let maximum: Int
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var closed = false

    init(conninfo: String, applicationName: String, maximum: Int) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.maximum = max(1, maximum)
    }

    /// A new connection of the pool's kind, not counted in the pool (for long-lived uses).
    func makeConnection(purpose: String) throws -> PostgresConnection {
        try PostgresConnection(conninfo, applicationName: "\(applicationName) \(purpose)")
    }

    /// Runs `body` with a pooled connection; a connection that was lost is dropped, not reused.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        var healthy = true
        defer { checkIn(connection, healthy: healthy) }
        do {
            return try body(connection)
        } catch let error as PostgresError {
            if error.code == .connectionClosed || error.code == .connectionFailed || !connection.isOpen {
                healthy = false
            }
            throw error
        } catch let error as LoadServerError {
            if error.code == .databaseUnavailable || !connection.isOpen { healthy = false }
            throw error
        }
    }

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && open >= maximum && !closed { condition.wait() }
        if closed {
            condition.unlock()
            throw LoadServerError(.busy, "the server is shutting down")
        }
        if let connection = idle.popLast() {
            condition.unlock()
            return connection
        }
        open += 1
        condition.unlock()
        do {
            return try makeConnection(purpose: "pool")
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkIn(_ connection: PostgresConnection, healthy: Bool) {
        condition.lock()
        defer { condition.unlock(); condition.signal() }
        let usable = healthy && !closed && connection.isOpen
            && connection.transactionStatus == .idle
        if usable {
            idle.append(connection)
        } else {
            open -= 1
            connection.close()
        }
    }

    /// Closes idle connections and refuses new check-outs.
    func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        open -= connections.count
        condition.broadcast()
        condition.unlock()
        connections.forEach { $0.close() }
    }
}
