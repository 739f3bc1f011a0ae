public import Curation
public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an external program reads on standard input.
public enum AppInput: Sendable, Equatable {
    /// `/dev/null`.
    case none
    /// These bytes, then end of file. A program that stops reading early is not an error.
    case data(Data)
    /// The contents of this file (relative paths against the working directory).
    case file(String)
}

/// Runs the external programs of the curation system (`SWarp`, `source-extractor`,
/// `fitsverify`, `funpack`, `gzip` …) and reports how they ended.
///
/// A tool is found through the `[tools]` section of the config (key: the tool name lower
/// case, `-` as `_`; value: a path, or a name looked up on `PATH`), else on `PATH`. A missing
/// tool is an ``WrapperError`` (`toolMissing`) whose one line names the Debian package to
/// install. The program runs in its own process group with a clean signal mask; a timeout or
/// the calling task's cancellation sends SIGTERM to the whole group, then SIGKILL after
/// ``terminationGrace``. Standard output and error are captured (the last ``outputLimit``
/// bytes of each) or written straight to files.
///
/// ```swift
/// let driver = AppDriver(config: config)
/// try await driver.run("SWarp", arguments: ["@list", "-c", "stack.swarp"],
///                      workingDirectory: work, timeout: .seconds(3600)).checkSuccess()
/// ```
public struct AppDriver: Sendable {
    /// Where each tool lives, as in the config's `[tools]`: tool name (lower case, `-` as
    /// `_`) → a path, or a program name to find on `PATH`. Tools not listed are looked up on
    /// `PATH` by their own name.
    public var toolPaths: [String: String]
    /// Bytes of standard output and of standard error kept in memory (the last ones).
    public var outputLimit: Int = 8 * 1024 * 1024
    /// Time between SIGTERM and SIGKILL when a run is stopped.
    public var terminationGrace: Duration = .seconds(5)
    /// How long to wait, after the program exits, for processes it left behind to close its
    /// output pipes; they are then killed (the program's process group gets SIGKILL).
    public var exitLinger: Duration = .seconds(1)

    /// A driver finding tools through `toolPaths` (by default Debian's program names).
    public init(toolPaths: [String: String] = WSAConfig.Tools.defaults) {
        self.toolPaths = toolPaths
    }

    /// A driver finding tools through the config's `[tools]` section.
    public init(config: WSAConfig) {
        self.init(toolPaths: config.tools.paths)
    }

    /// The absolute path of the program that `tool` runs, or a `toolMissing` error naming
    /// the Debian package. `environment` may override `PATH`.
    public func locate(_ tool: String, environment: [String: String] = [:])
        throws(WrapperError) -> String
    {
        let key = Self.configKey(tool)
        let configured = toolPaths[key] ?? toolPaths[tool]
        let program = configured ?? tool
        let hint = installHint(tool, program, key)
        if program.contains("/") {
            let path = URL(fileURLWithPath: program).standardizedFileURL.path
            if Self.isExecutableFile(path) { return path }
            let setting = configured == nil ? "" : " (tools.\(key) in the config)"
            throw WrapperError(.toolMissing, tool: tool, "\(tool) not found at \(path)\(setting): \(hint)")
        }
        let searchPath = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
            ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let base = directory.isEmpty ? FileManager.default.currentDirectoryPath : String(directory)
            let candidate = URL(fileURLWithPath: program, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
                .standardizedFileURL.path
            if Self.isExecutableFile(candidate) { return candidate }
        }
        let named = program == tool ? "" : " as \(program) (tools.\(key) in the config)"
        throw WrapperError(.toolMissing, tool: tool, "\(tool) not found on PATH\(named): \(hint)")
    }

    /// One `toolMissing` error for each of `tools` that cannot be found (for a program's
    /// start-up check of its prerequisites).
    public func missingTools(_ tools: [String], environment: [String: String] = [:]) -> [WrapperError] {
        tools.compactMap { tool -> WrapperError? in
            do throws(WrapperError) {
                _ = try locate(tool, environment: environment)
                return nil
            } catch {
                return error
            }
        }
    }

    /// Runs `tool` to its end without blocking the caller's executor (the waiting happens on
    /// threads of its own).
    ///
    /// - Parameters:
    ///   - arguments: passed as they are, no shell involved.
    ///   - workingDirectory: where the program starts (default: the caller's).
    ///   - environment: variables added to, or overriding, this process's environment.
    ///   - input: standard input (default `/dev/null`).
    ///   - timeout: the program and everything it started are killed after this long and
    ///     the result says `timedOut`.
    ///   - stdoutFile: write standard output to this file (created or truncated) instead of
    ///     capturing it; relative paths against the working directory.
    ///   - stderrFile: the same for standard error; the same path as `stdoutFile` merges both.
    /// - Returns: how the program ended, whatever its exit status; see
    ///   ``AppResult/checkSuccess()``.
    /// - Throws: `toolMissing`, `spawnFailed`, `redirectFailed`; `cancelled` (after the
    ///   program has been killed and reaped) when the calling task is cancelled.
    public func run(_ tool: String, arguments: [String] = [], workingDirectory: String? = nil,
                    environment: [String: String] = [:], input: AppInput = .none,
                    timeout: Duration? = nil, stdoutFile: String? = nil,
                    stderrFile: String? = nil) async throws(WrapperError) -> AppResult
    {
        let spec = try launchSpec(tool, arguments, workingDirectory, environment, input, timeout,
                                  stdoutFile, stderrFile)
        let signals = try ChildSignals()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppResult, WrapperError>, Never>) in
                let supervisor = Thread {
                    continuation.resume(returning: ChildProcess.run(spec, signals: signals))
                }
                supervisor.name = "AppDriver \(tool)"
                supervisor.start()
            }
        } onCancel: {
            signals.cancel()
        }
        let result = try outcome.get()
        if result.cancelled, let failure = result.failure { throw failure }
        return result
    }

    /// ``run(_:arguments:workingDirectory:environment:input:timeout:stdoutFile:stderrFile:)``
    /// for synchronous callers: blocks the calling thread until the program has ended.
    /// Never call it from a Swift concurrency task (it would hold a cooperative thread).
    public func runSynchronously(_ tool: String, arguments: [String] = [],
                                 workingDirectory: String? = nil,
                                 environment: [String: String] = [:], input: AppInput = .none,
                                 timeout: Duration? = nil, stdoutFile: String? = nil,
                                 stderrFile: String? = nil) throws(WrapperError) -> AppResult
    {
        let spec = try launchSpec(tool, arguments, workingDirectory, environment, input, timeout,
                                  stdoutFile, stderrFile)
        return try ChildProcess.run(spec, signals: try ChildSignals()).get()
    }

    private func launchSpec(_ tool: String, _ arguments: [String], _ workingDirectory: String?,
                            _ environment: [String: String], _ input: AppInput,
                            _ timeout: Duration?, _ stdoutFile: String?, _ stderrFile: String?)
        throws(WrapperError) -> LaunchSpec
    {
        let executable = try locate(tool, environment: environment)
        var directory: String?
        if let workingDirectory {
            let absolute = URL(fileURLWithPath: workingDirectory).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory),
                  isDirectory.boolValue
            else {
                throw WrapperError(.spawnFailed, tool: tool,
                                     "cannot start \(tool): working directory \(absolute) does not exist")
            }
            directory = absolute
        }
        let base = URL(fileURLWithPath: directory ?? FileManager.default.currentDirectoryPath,
                       isDirectory: true)
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
        }
        var resolvedInput = input
        if case .file(let path) = input { resolvedInput = .file(absolute(path)) }
        let childEnvironment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return LaunchSpec(tool: tool, executable: executable, arguments: arguments,
                          workingDirectory: directory, environment: childEnvironment,
                          input: resolvedInput, stdoutFile: stdoutFile.map(absolute),
                          stderrFile: stderrFile.map(absolute), timeout: timeout,
                          terminationGrace: terminationGrace, exitLinger: exitLinger,
                          outputLimit: outputLimit)
    }

    /// "install the Debian package swarp (apt-get install swarp), or set tools.swarp in the config"
    private func installHint(_ tool: String, _ program: String, _ key: String) -> String {
        let setting = "set tools.\(key) in the config"
        guard let package = DebianPackages.package(for: program) ?? DebianPackages.package(for: tool)
        else { return "install it or \(setting)" }
        return "install the Debian package \(package) (apt-get install \(package)), or \(setting)"
    }

    /// The `[tools]` key of a tool: lower case, `-` as `_` (as the config loader spells keys).
    static func configKey(_ tool: String) -> String {
        tool.lowercased().replacingOccurrences(of: "-", with: "_")
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
