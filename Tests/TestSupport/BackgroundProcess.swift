public import Foundation
import AppDriver
#if canImport(Glibc)
import Glibc
#endif

/// A program started in the background for a test (a daemon, a client to kill): AppDriver's
/// ``DetachedProcess``, killed and reaped when the test lets go of it.
public final class BackgroundProcess: @unchecked Sendable {
    let process: DetachedProcess

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                outputFile: String) throws {
        process = try DetachedProcess(executable, arguments, environment: environment, outputFile: outputFile)
    }

    public var pid: pid_t { process.pid }
    public var outputFile: String { process.outputFile }
    /// Sends `signal`.
    public func signal(_ signal: Int32) { process.signal(signal) }
    /// Waits for the exit; returns the wait status (see `exitCode`, `killedBy`).
    @discardableResult
    public func wait() -> Int32 { process.wait() }
    /// Whether it is still running (reaps it if not).
    public var isRunning: Bool { process.isRunning }
    /// The exit code, nil when killed by a signal.
    public var exitCode: Int32? { process.exitCode }
    /// The signal that killed it, if one did.
    public var killedBy: Int32? { process.killedBy }
    /// What it printed so far.
    public var output: String { process.output }

    deinit {
        if process.isRunning {
            process.signal(SIGKILL)
            process.wait()
        }
    }
}
