public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program started in the background for a test (a daemon, a client to kill): spawned with
/// an empty signal mask and default signal handling, output to a file.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let outputFile: String
    private var status: Int32?

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                outputFile: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = [executable] + arguments
        var child: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        let result = posix_spawn(&child, executable, &actions, &attributes, cArgv, cEnv)
        guard result == 0 else {
            throw PythonError(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        self.outputFile = outputFile
    }

    /// Sends `signal`.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit; returns the wait status (see `exitCode`, `killedBy`).
    @discardableResult
    public func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        status = raw
        return raw
    }

    /// Whether it is still running (reaps it if not).
    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid { status = raw; return false }
        return r == 0
    }

    /// The exit code, nil when killed by a signal.
    public var exitCode: Int32? {
        let s = wait()
        return (s & 0x7f) == 0 ? (s >> 8) & 0xff : nil
    }

    /// The signal that killed it, if one did.
    public var killedBy: Int32? {
        let s = wait()
        let sig = s & 0x7f
        return sig != 0 && sig != 0x7f ? sig : nil
    }

    /// What it printed so far.
    public var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
    }
}
