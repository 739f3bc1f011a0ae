import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// One program to run, resolved and ready for `posix_spawn`.
struct LaunchSpec: Sendable {
    var tool: String
    /// Absolute path of the program.
    var executable: String
    var arguments: [String]
    var workingDirectory: String?
    /// The child's whole environment.
    var environment: [String: String]
    var input: AppInput
    /// Absolute paths.
    var stdoutFile: String?
    var stderrFile: String?
    var timeout: Duration?
    var terminationGrace: Duration
    var exitLinger: Duration
    var outputLimit: Int

    /// The command line for logs: the program, its arguments and its redirections.
    var commandLine: String {
        var line = ShellQuoting.join([executable] + arguments)
        if case .file(let path) = input { line += " < " + ShellQuoting.quote(path) }
        if let stdoutFile { line += " > " + ShellQuoting.quote(stdoutFile) }
        if let stderrFile {
            line += stderrFile == stdoutFile ? " 2>&1" : " 2> " + ShellQuoting.quote(stderrFile)
        }
        return line
    }
}

/// State shared between the supervising thread, the thread waiting for the child's exit and
/// a task's cancellation handler. Either of the other two wakes the supervisor through a pipe.
final class ChildSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var exited = false
    let wakeRead: Int32
    let wakeWrite: Int32

    init() throws(WrapperError) {
        var fds: [Int32] = [-1, -1]
        guard GNULibc.pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw WrapperError(.spawnFailed, tool: "",
                                 "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Asks the supervisor to stop the child (SIGTERM to its group, SIGKILL after the grace).
    func cancel() {
        lock.withLock { cancelled = true }
        wake()
    }

    func markExited() {
        lock.withLock { exited = true }
        wake()
    }

    var isCancelled: Bool { lock.withLock { cancelled } }
    var hasExited: Bool { lock.withLock { exited } }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }
}

/// Starts a program with `posix_spawn` and supervises it to its end.
///
/// The child gets an empty signal mask and default signal dispositions whatever the spawning
/// thread had (Foundation's `Process` lets a worker thread's blocked SIGTERM leak into the
/// child), and its own process group, so a timeout or a cancellation reaches every process it
/// started: SIGTERM to the group, SIGKILL after the grace period. Standard output and error
/// are drained concurrently with standard input being fed, in one `poll` loop, so no pipe can
/// fill up and deadlock; a second thread blocks in `waitid` until the child exits.
enum ChildProcess {
    private enum Stop { case timeout, cancel }

    /// Runs `spec` to completion on the calling thread (which it blocks).
    static func run(_ spec: LaunchSpec, signals: ChildSignals) -> Result<AppResult, WrapperError> {
        // A write to a child that stopped reading raises SIGPIPE in this thread: keep it
        // blocked here and swallow it, so only EPIPE is seen.
        var pipeSet = sigset_t()
        sigemptyset(&pipeSet)
        sigaddset(&pipeSet, SIGPIPE)
        var oldMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSet, &oldMask)
        defer {
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSet, nil, &zero) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &oldMask, nil)
        }
        do {
            return .success(try supervise(spec, signals: signals))
        } catch {
            return .failure(error)
        }
    }

    private static func supervise(_ spec: LaunchSpec, signals: ChildSignals) throws(WrapperError)
        -> AppResult
    {
        if signals.isCancelled {
            throw WrapperError(.cancelled, tool: spec.tool, "\(spec.tool) cancelled before it started")
        }
        var fds = FileDescriptors()
        defer { fds.closeAll() }

        // Redirections the caller asked for, opened here so a bad path gets its own message.
        var stdinSource: Int32 = -1
        var stdinData: Data?
        switch spec.input {
        case .none:
            break
        case .file(let path):
            stdinSource = try fds.open(path, O_RDONLY, tool: spec.tool, purpose: "input file")
        case .data(let data):
            let (readEnd, writeEnd) = try fds.pipe(tool: spec.tool)
            stdinSource = readEnd
            fds.parentStdin = writeEnd
            stdinData = data
        }
        let outputFlags = O_WRONLY | O_CREAT | O_TRUNC
        let stdoutTarget: Int32
        if let path = spec.stdoutFile {
            stdoutTarget = try fds.open(path, outputFlags, tool: spec.tool, purpose: "output file")
        } else {
            let (readEnd, writeEnd) = try fds.pipe(tool: spec.tool)
            fds.parentStdout = readEnd
            stdoutTarget = writeEnd
        }
        let stderrTarget: Int32
        if let path = spec.stderrFile, path == spec.stdoutFile {
            stderrTarget = stdoutTarget
        } else if let path = spec.stderrFile {
            stderrTarget = try fds.open(path, outputFlags, tool: spec.tool, purpose: "error file")
        } else {
            let (readEnd, writeEnd) = try fds.pipe(tool: spec.tool)
            fds.parentStderr = readEnd
            stderrTarget = writeEnd
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let directory = spec.workingDirectory {
            let status = GNULibc.addChdir(&actions, directory)
            guard status == 0 else {
                throw WrapperError(.spawnFailed, tool: spec.tool,
                                     "cannot start \(spec.tool) in \(directory): \(String(cString: strerror(status)))")
            }
        }
        if stdinSource >= 0 {
            posix_spawn_file_actions_adddup2(&actions, stdinSource, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutTarget, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrTarget, 2)
        // Descriptors other code opened without close-on-exec must not leak into the tool.
        GNULibc.addClosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes,
                                 Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                     | POSIX_SPAWN_SETPGROUP))

        let argv = ([spec.executable] + spec.arguments).map { strdup($0) }
        let envp = spec.environment.sorted(by: { $0.key < $1.key }).map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let spawnStatus = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(&pid, spec.executable, &actions, &attributes,
                            argvBuffer.baseAddress!, envpBuffer.baseAddress!)
            }
        }
        guard spawnStatus == 0 else {
            throw WrapperError(.spawnFailed, tool: spec.tool,
                                 "cannot start \(spec.tool) (\(spec.executable)): \(String(cString: strerror(spawnStatus)))",
                                 detail: spec.commandLine)
        }
        fds.closeChildEnds()

        let childPID = pid
        let waiter = Thread {
            // WNOWAIT leaves the child a zombie until the supervisor reaps it, so its process
            // group id cannot be reused while the group may still be signalled.
            var info = siginfo_t()
            _ = try? syscall("waitid") { waitid(P_PID, id_t(childPID), &info, WEXITED | WNOWAIT) }
            signals.markExited()
        }
        waiter.name = "AppDriver wait \(childPID)"
        waiter.start()

        var stdoutTail = OutputTail(limit: spec.outputLimit)
        var stderrTail = OutputTail(limit: spec.outputLimit)
        var stdinOffset = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }

        let timeoutDeadline = spec.timeout.map { start + $0 }
        var stop: Stop?
        var killDeadline: ContinuousClock.Instant?
        var killed = false
        var lingerDeadline: ContinuousClock.Instant?
        var killedLeftovers = false

        func killGroup(_ signal: Int32) { _ = kill(-pid, signal) }

        supervision: while true {
            let now = clock.now
            if stop == nil {
                if signals.isCancelled {
                    stop = .cancel
                } else if let deadline = timeoutDeadline, now >= deadline {
                    stop = .timeout
                }
                if stop != nil {
                    killGroup(SIGTERM)
                    killDeadline = now + spec.terminationGrace
                }
            }
            if !killed, let deadline = killDeadline, now >= deadline {
                killGroup(SIGKILL)
                killed = true
            }
            if signals.hasExited {
                if stop != nil && !killed {
                    // The leader is gone; whatever else it started got SIGTERM with it.
                    killGroup(SIGKILL)
                    killed = true
                }
                if fds.parentStdout < 0 && fds.parentStderr < 0 { break supervision }
                if lingerDeadline == nil { lingerDeadline = now + spec.exitLinger }
                if let linger = lingerDeadline, now >= linger {
                    // Something the tool left behind still holds its output open.
                    if killedLeftovers { break supervision }
                    killGroup(SIGKILL)
                    killedLeftovers = true
                    lingerDeadline = now + spec.exitLinger
                }
            }

            var pollSet = [pollfd(fd: signals.wakeRead, events: Int16(POLLIN), revents: 0)]
            if fds.parentStdout >= 0 { pollSet.append(pollfd(fd: fds.parentStdout, events: Int16(POLLIN), revents: 0)) }
            if fds.parentStderr >= 0 { pollSet.append(pollfd(fd: fds.parentStderr, events: Int16(POLLIN), revents: 0)) }
            if fds.parentStdin >= 0 { pollSet.append(pollfd(fd: fds.parentStdin, events: Int16(POLLOUT), revents: 0)) }
            let nextDeadline = [stop == nil ? timeoutDeadline : nil, killed ? nil : killDeadline,
                                lingerDeadline].compactMap { $0 }.min()
            let waitMilliseconds = nextDeadline.map { milliseconds(until: $0, from: now) } ?? -1
            let ready = poll(&pollSet, nfds_t(pollSet.count), waitMilliseconds)
            if ready < 0 { continue }

            for entry in pollSet where entry.revents != 0 {
                switch entry.fd {
                case signals.wakeRead:
                    signals.drainWakeups()
                case fds.parentStdout:
                    if !readAvailable(entry.fd, buffer, into: &stdoutTail) { fds.closeParent(\.parentStdout) }
                case fds.parentStderr:
                    if !readAvailable(entry.fd, buffer, into: &stderrTail) { fds.closeParent(\.parentStderr) }
                case fds.parentStdin:
                    if let data = stdinData,
                       !writeAvailable(entry.fd, data, offset: &stdinOffset, revents: entry.revents)
                    {
                        fds.closeParent(\.parentStdin)
                    }
                default:
                    break
                }
            }
            if fds.parentStdin >= 0, let data = stdinData, stdinOffset >= data.count {
                fds.closeParent(\.parentStdin)
            }
        }
        fds.closeParent(\.parentStdin)

        var status: Int32 = 0
        let reaped = (try? syscall("waitpid") { waitpid(pid, &status, 0) }) ?? -1
        let duration = clock.now - start
        guard reaped == pid else {
            throw WrapperError(.spawnFailed, tool: spec.tool,
                                 "the exit status of \(spec.tool) was lost (is SIGCHLD ignored?)",
                                 detail: spec.commandLine)
        }
        let termination: AppResult.Termination
        let signal = status & 0x7F
        if signal == 0 {
            termination = .exited((status >> 8) & 0xFF)
        } else {
            termination = .signalled(signal, coreDumped: status & 0x80 != 0)
        }
        return AppResult(
            tool: spec.tool, executable: spec.executable, arguments: spec.arguments,
            commandLine: spec.commandLine, termination: termination,
            timedOut: stop == .timeout, cancelled: stop == .cancel, timeLimit: spec.timeout,
            duration: duration,
            stdout: stdoutTail.data, stderr: stderrTail.data,
            stdoutByteCount: stdoutTail.total, stderrByteCount: stderrTail.total,
            stdoutFile: spec.stdoutFile, stderrFile: spec.stderrFile)
    }

    /// Reads what is there; false at end of file or on an error.
    private static func readAvailable(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer,
                                      into tail: inout OutputTail) -> Bool
    {
        for _ in 0..<32 {
            do {
                let count = try syscall("read") { read(fd, buffer.baseAddress, buffer.count) }
                if count == 0 { return false }
                tail.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            } catch {
                return error.errno == EAGAIN || error.errno == EWOULDBLOCK
            }
        }
        return true
    }

    /// Writes what the pipe takes; false when the child closed its end (or on an error).
    private static func writeAvailable(_ fd: Int32, _ data: Data, offset: inout Int,
                                       revents: Int16) -> Bool
    {
        if revents & Int16(POLLERR | POLLHUP) != 0 && revents & Int16(POLLOUT) == 0 { return false }
        while offset < data.count {
            let at = offset
            do {
                let written = try syscall("write") {
                    data.withUnsafeBytes { bytes in write(fd, bytes.baseAddress! + at, min(64 * 1024, bytes.count - at)) }
                }
                if written == 0 { return false }
                offset += written
            } catch {
                return error.errno == EAGAIN || error.errno == EWOULDBLOCK
            }
        }
        return true
    }

    /// Milliseconds for `poll`, rounded up so a deadline is never polled early.
    private static func milliseconds(until deadline: ContinuousClock.Instant,
                                     from now: ContinuousClock.Instant) -> Int32
    {
        guard deadline > now else { return 0 }
        let (seconds, attoseconds) = (deadline - now).components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let total = seconds * 1000 + attoseconds / perMillisecond + (attoseconds % perMillisecond == 0 ? 0 : 1)
        return Int32(clamping: total)
    }
}

/// The descriptors of one run, so every exit path closes them.
private struct FileDescriptors {
    /// Ends the child gets (closed in the parent once it has started).
    var childEnds: [Int32] = []
    var parentStdin: Int32 = -1
    var parentStdout: Int32 = -1
    var parentStderr: Int32 = -1

    mutating func open(_ path: String, _ flags: Int32, tool: String, purpose: String)
        throws(WrapperError) -> Int32
    {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw WrapperError(.redirectFailed, tool: tool,
                                 "cannot open \(purpose) \(path) for \(tool): \(reason)")
        }
        childEnds.append(fd)
        return fd
    }

    /// A pipe, both ends close-on-exec. The caller stores the parent's end in `parentStdin`,
    /// `parentStdout` or `parentStderr`; ``closeChildEnds()`` closes the other one.
    mutating func pipe(tool: String) throws(WrapperError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard GNULibc.pipe2(&ends, O_CLOEXEC) == 0 else {
            throw WrapperError(.spawnFailed, tool: tool,
                                 "cannot create a pipe for \(tool): \(String(cString: strerror(errno)))")
        }
        childEnds.append(contentsOf: ends)
        return (ends[0], ends[1])
    }

    /// Closes the child's ends in the parent and makes the parent's ends non-blocking.
    mutating func closeChildEnds() {
        let parentEnds = [parentStdin, parentStdout, parentStderr].filter { $0 >= 0 }
        for fd in childEnds where !parentEnds.contains(fd) { close(fd) }
        childEnds = []
        for fd in parentEnds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    mutating func closeParent(_ end: WritableKeyPath<FileDescriptors, Int32>) {
        if self[keyPath: end] >= 0 {
            close(self[keyPath: end])
            self[keyPath: end] = -1
        }
    }

    mutating func closeAll() {
        let parentEnds = [parentStdin, parentStdout, parentStderr].filter { $0 >= 0 }
        for fd in Set(childEnds + parentEnds) { close(fd) }
        childEnds = []
        parentStdin = -1
        parentStdout = -1
        parentStderr = -1
    }
}
