public import Foundation
public import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// A program started and left to run (a resumed curation run, a daemon in a test): standard
/// input from /dev/null, standard output and error appended to `outputFile`, an empty signal
/// mask and default signal handling, in a process group of its own when asked. Unlike
/// ``AppDriver/run(_:arguments:environment:timeout:)`` nothing waits for it unless asked.
public final class DetachedProcess: @unchecked Sendable {  // `status` guarded by `lock`
    public let pid: pid_t
    public let outputFile: String
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments` and this process's environment plus `environment`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                outputFile: String, ownProcessGroup: Bool = false) throws(SystemCallError) {
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
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let cArgv = ([executable] + arguments).map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var child: pid_t = 0
        try syscallReturningError("posix_spawn", path: executable) {
            posix_spawn(&child, executable, &actions, &attributes, cArgv, cEnv)
        }
        pid = child
        self.outputFile = outputFile
    }

    /// Sends `signal`.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit; returns the wait status (see ``exitCode``, ``killedBy``).
    @discardableResult
    public func wait() -> Int32 {
        if let status = lock.withLock({ status }) { return status }
        var raw: Int32 = 0
        do {
            _ = try syscall("waitpid") { waitpid(pid, &raw, 0) }
        } catch {
            // Reaped by someone else (ECHILD): its status is lost. Wait until it is gone, and
            // say neither "exited 0" nor "killed" (exitCode and killedBy are both nil).
            while kill(pid, 0) == 0 { usleep(20_000) }
            raw = Self.statusLost
        }
        lock.withLock { status = raw }
        return raw
    }

    /// The wait status recorded when the process was reaped elsewhere: a "stopped by signal
    /// 0x7f" pattern no exited or killed process has, so exitCode and killedBy are nil.
    static let statusLost: Int32 = 0x7f

    /// Whether it is still running (reaps it if not).
    public var isRunning: Bool {
        if lock.withLock({ status }) != nil { return false }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid {
            lock.withLock { status = raw }
            return false
        }
        return reaped == 0
    }

    /// The exit code, nil when killed by a signal (waits for the exit).
    public var exitCode: Int32? {
        let s = wait()
        return (s & 0x7f) == 0 ? (s >> 8) & 0xff : nil
    }

    /// The signal that killed it, if one did (waits for the exit).
    public var killedBy: Int32? {
        let s = wait()
        let sig = s & 0x7f
        return sig != 0 && sig != 0x7f ? sig : nil
    }

    /// What it printed so far.
    public var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    /// Reaps the process on a thread of its own once it exits (for a run nobody waits for).
    public func reapWhenDone() {
        let thread = Thread { [self] in wait() }
        thread.name = "reaper-\(pid)"
        thread.start()
    }
}
