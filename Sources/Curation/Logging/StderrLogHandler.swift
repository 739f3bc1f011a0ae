public import Foundation
public import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// Writes warnings and above (or the configured level, if higher) to standard error in the
/// log-file format, so a person at a terminal sees problems as they happen.
public struct StderrLogHandler: LogHandler {
    public let program: String
    public let label: String
    /// The lowest level shown; never below `.warning` whatever a `Logger` asks for.
    public var logLevel: Logger.Level {
        get { max(level, .warning) }
        set { level = newValue }
    }
    private var level: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let clock: @Sendable () -> Date

    public init(program: String, label: String, level: Logger.Level = .warning,
                clock: @escaping @Sendable () -> Date = { Date() })
    {
        self.program = program
        self.label = label
        self.level = level
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= logLevel else { return }
        let line = LogLine.format(date: clock(), level: event.level, program: program, label: label,
                                  message: event.message.description,
                                  metadata: mergedMetadata(metadata, metadataProvider, event.metadata))
        StandardError.write(line)
    }
}

/// Serialised writes to stderr, and rate-limited reports of the logging system's own problems.
enum StandardError {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var lastReport: [String: Date] = [:]

    /// True when stderr is a terminal.
    static var isInteractive: Bool { isatty(STDERR_FILENO) == 1 }

    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        lock.lock()
        defer { lock.unlock() }
        _ = try? POSIXFile.writeAll(STDERR_FILENO, bytes, path: "stderr", code: .logFile)
    }

    /// Writes `message` unless one of the same `throttle` kind was written in the last minute.
    static func report(_ message: String, throttle kind: String) {
        let now = Date()
        lock.lock()
        if let last = lastReport[kind], now.timeIntervalSince(last) < 60 {
            lock.unlock()
            return
        }
        lastReport[kind] = now
        lock.unlock()
        write(message.hasSuffix("\n") ? message : message + "\n")
    }
}
