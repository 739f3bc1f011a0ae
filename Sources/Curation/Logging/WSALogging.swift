public import Foundation
public import Logging
import SystemSupport

/// The logging of one program: a daily-rotated file, warnings on stderr, and every ERROR
/// mailed to the admin list (see ``bootstrap(program:config:clock:)``).
///
///     let config = try WSAConfig.load(configFile: options.config)
///     let logging = try WSALogging.bootstrap(program: "cu4", config: config)
///     defer { logging.shutdown(timeout: 10) }
///     let logger = Logger(label: "wsa.cu4")
///     logger.error("zero point missing", metadata: ["file": "\(path)"])  // logged and mailed
public final class WSALogging: Sendable {
    /// The program name (`cu4`, `curate`, `dbrpcserver`).
    public let program: String
    /// The program's log file.
    public let logFile: RotatingLogFile
    /// The alert mailer, or nil when `[mail] admins` is empty.
    public let mailer: AlertMailer?
    /// The run's alerts, gathered into one mail (sent at ``shutdown(timeout:)``).
    public let digest: AlertDigest?
    /// The level from the config.
    public let level: Logger.Level
    /// Whether warnings and above also go to stderr.
    public let usesStderr: Bool
    private let from: String
    private let admins: [String]
    private let clock: @Sendable () -> Date

    private static let installed = Locked<WSALogging?>(nil)

    /// The setup installed by ``bootstrap(program:config:clock:)``, if any.
    public static var current: WSALogging? { installed.withLock { $0 } }

    /// Opens the log file (rotating a stale one) and starts the mailer, which at once sends
    /// what earlier runs left in the mail spool. Does not touch `LoggingSystem`; use
    /// ``makeHandler(label:)`` or ``bootstrap(program:config:clock:)``.
    ///
    /// - Parameters:
    ///   - program: The program name: the log file is `<paths.log>/<logging.file>` with
    ///     `{program}` replaced.
    ///   - clock: The time source for timestamps and rotation (tests inject one).
    ///   - stderr: Overrides `[logging] stderr` (nil: `auto` means "if stderr is a terminal").
    /// - Throws: ``CurationError`` `.logFile` when the log directory or file is unusable.
    public init(program: String, config: WSAConfig,
                clock: @escaping @Sendable () -> Date = { Date() }, stderr: Bool? = nil) throws
    {
        self.program = program
        self.level = config.logging.level
        self.clock = clock
        self.from = config.mail.from
        self.admins = config.mail.admins
        switch (stderr, config.logging.stderr) {
        case (let forced?, _): usesStderr = forced
        case (nil, .always): usesStderr = true
        case (nil, .never): usesStderr = false
        case (nil, .auto): usesStderr = StandardError.isInteractive
        }
        let file = try RotatingLogFile(
            directory: config.paths.log, fileName: config.logging.fileName(program: program),
            clock: clock, keepDays: config.logging.keepDays, gzip: config.tools["gzip"] ?? "/bin/gzip",
            diagnostics: { StandardError.report("wsa: \($0)", throttle: "archive") })
        self.logFile = file
        if config.mail.admins.isEmpty {
            mailer = nil
            digest = nil
        } else {
            // The mailer's own problems go to the file (not mailed: no loops, no storms).
            mailer = AlertMailer(config: config.mail, diagnostics: { text in
                try? file.write { date in
                    LogLine.format(date: date, level: .warning, program: program,
                                   label: "wsa.mail", message: text, metadata: [:])
                }
            })
            let held = "\(config.mail.spool)/held"
            digest = AlertDigest(program: program, heldDirectory: held, window: config.mail.digestSeconds, clock: clock) {
                [mailer] in mailer?.send($0)
            }
            AlertDigest.sendLeftovers(in: held) { [mailer] in mailer?.send($0) }
        }
    }

    /// A handler for a `Logger` with `label`: the file, stderr when enabled, and mail for
    /// errors when admins are configured, joined by a `MultiplexLogHandler`.
    public func makeHandler(label: String) -> any LogHandler {
        var handlers: [any LogHandler] = [
            FileLogHandler(file: logFile, program: program, label: label, level: level)
        ]
        if usesStderr {
            handlers.append(StderrLogHandler(program: program, label: label, level: level, clock: clock))
        }
        if let mailer {
            handlers.append(MailLogHandler(mailer: mailer, program: program, label: label,
                                           from: from, recipients: admins, level: level, digest: digest,
                                           clock: clock))
        }
        return handlers.count == 1 ? handlers[0] : MultiplexLogHandler(handlers)
    }

    /// Sets up logging for the process: ``init(program:config:clock:stderr:)`` then
    /// `LoggingSystem.bootstrap` with ``makeHandler(label:)``. Call once, early in `main`.
    /// Stderr gets warnings and above when it is a terminal (`[logging] stderr = "auto"`),
    /// always (`"always"`, for daemons under systemd) or never (`"never"`).
    /// At exit call ``shutdown(timeout:)`` so pending alerts get a bounded chance to leave.
    @discardableResult
    public static func bootstrap(program: String, config: WSAConfig,
                                 clock: @escaping @Sendable () -> Date = { Date() }) throws
        -> WSALogging
    {
        let setup = try WSALogging(program: program, config: config, clock: clock)
        LoggingSystem.bootstrap { label in setup.makeHandler(label: label) }
        installed.withLock { $0 = setup }
        return setup
    }

    /// Sends the alerts gathered so far (one mail, a digest when there are several) without
    /// waiting for the end of the run.
    public func flushAlerts() { digest?.flush() }

    /// Waits up to `timeout` seconds for pending alert mail to be delivered and rotated logs
    /// to be compressed, then stops the mailer. Returns true if nothing was left pending;
    /// undelivered alerts stay in the spool and are sent at the next program start.
    @discardableResult
    public func shutdown(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var clean = true
        digest?.flush()
        if let mailer {
            clean = mailer.flush(timeout: timeout)
            mailer.stop(timeout: max(0.5, deadline.timeIntervalSinceNow))
        }
        return logFile.waitForArchiving(timeout: max(0, deadline.timeIntervalSinceNow)) && clean
    }
}
