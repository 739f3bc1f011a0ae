public import Foundation

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion and captures its output (test helper).
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String],
                       environment: [String: String]? = nil,
                       currentDirectory: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Tools and locations the integration tests use.
public enum TestEnvironment {
    /// Debian's Python, which has astropy and numpy (`WSA_PYTHON` overrides).
    public static var python: String {
        ProcessInfo.processInfo.environment["WSA_PYTHON"] ?? "/usr/bin/python3"
    }

    /// libpq connection string of the throwaway test cluster, if the test script started one.
    public static var databaseURL: String? {
        ProcessInfo.processInfo.environment["WSA_TEST_DATABASE"]
    }

    /// True when tests that need PostgreSQL can run.
    public static var hasDatabase: Bool { databaseURL != nil }

    /// The package's root directory (found from this source file's location).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The directory holding built products (`.build/debug`), for running our executables.
    public static var productsDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["WSA_BIN_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory(_ prefix: String = "wsatest") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs `fitsverify` on a file; returns whether it is clean (no errors and no warnings) and,
/// when it is not, the full report. fitsverify parses cfitsio's extended file-name syntax, so a
/// name with brackets is verified through a plain-named symbolic link.
public func fitsverify(_ path: String) throws -> (clean: Bool, report: String) {
    var target = path
    var link: String?
    if path.contains("[") || path.contains("]") || path.contains("!") {
        let l = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString).fits").path
        try FileManager.default.createSymbolicLink(atPath: l, withDestinationPath: path)
        link = l
        target = l
    }
    defer { if let link { try? FileManager.default.removeItem(atPath: link) } }
    let quick = try runProcess("/usr/bin/fitsverify", ["-q", target])
    let line = quick.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let clean = quick.status == 0 && line.hasPrefix("verification OK")
    if clean { return (true, line) }
    let full = try runProcess("/usr/bin/fitsverify", [target])
    let problems = full.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { $0.contains("***") || $0.contains("Error") || $0.contains("Warning") || $0.hasPrefix("  ") }
    return (false, path + ": " + line + "\n" + problems.prefix(40).joined(separator: "\n"))
}

/// Runs a Python snippet with Debian's Python (astropy, numpy); returns stdout.
public func runPython(_ script: String, _ arguments: [String] = []) throws -> String {
    let result = try runProcess(TestEnvironment.python, ["-c", script] + arguments)
    guard result.status == 0 else {
        throw PythonError(message: result.stderr)
    }
    return result.stdout
}

public struct PythonError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "python failed: \(message)" }
    public init(message: String) { self.message = message }
}
