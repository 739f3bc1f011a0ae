public import Foundation
public import RPCContract

/// Runs failed curation runs again: each run's recorded command, looked up in one directory of
/// curation programs only, with `WSA_RESUME_OF=<cuEventID>` in its environment (the CU passes it
/// to beginStep as resumeOf, so the new run points at the one it makes good).
public struct RunResumer: Sendable {
    /// Where the CU programs are (normally dbrpcserver's own directory).
    public var programDirectory: URL
    /// Where each resumed run's standard output and error go (`resume-<cuEventID>.out`).
    public var outputDirectory: URL

    public init(programDirectory: URL, outputDirectory: URL) {
        self.programDirectory = programDirectory
        self.outputDirectory = outputDirectory
    }

    /// What resuming one run did (the contract's answer to `resume`).
    public typealias Outcome = RPC.Resume.Started

    /// Programs a resume may start.
    static func isCurationProgram(_ name: String) -> Bool {
        name == "curate" || (name.hasPrefix("cu") && name.count <= 4 && Int(name.dropFirst(2)).map { (1...20).contains($0) } == true)
    }

    /// Starts every run's command again (or, with `dryRun`, says what it would start).
    public func resume(_ runs: [CurationRun], dryRun: Bool) -> [Outcome] {
        runs.map { run in
            guard let name = run.command.first.map({ URL(fileURLWithPath: $0).lastPathComponent }),
                  Self.isCurationProgram(name) else {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "not resumable: its command (\(run.command.first ?? "none")) is not a curation program")
            }
            let program = programDirectory.appendingPathComponent(name).path
            guard FileManager.default.isExecutableFile(atPath: program) else {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "not resumable: \(program) is not an executable")
            }
            if dryRun {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "would run \(([program] + run.command.dropFirst()).joined(separator: " "))")
            }
            do {
                let pid = try spawn(program, Array(run.command.dropFirst()), resumeOf: run.cuEventID)
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: pid,
                               message: "started as process \(pid)")
            } catch {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "cannot start \(program): \(error)")
            }
        }
    }

    private func spawn(_ program: String, _ arguments: [String], resumeOf: Int) throws -> Int32 {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let output = outputDirectory.appendingPathComponent("resume-\(resumeOf).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var environment = ProcessInfo.processInfo.environment
        environment["WSA_RESUME_OF"] = String(resumeOf)
        let argv = [program] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(argv) { argvPointer in
            withCStrings(envp) { envPointer in
                posix_spawn(&pid, program, &actions, &attributes, argvPointer, envPointer)
            }
        }
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO) }
        let child = pid
        let reaper = Thread {
            var result: Int32 = 0
            while waitpid(child, &result, 0) < 0 && errno == EINTR {}
        }
        reaper.name = "resume-reaper-\(child)"
        reaper.start()
        return child
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    return (duplicated + [nil]).withUnsafeBufferPointer { body($0.baseAddress!) }
}
