public import Foundation
public import Logging

/// A swift-log handler that mails every `.error` and `.critical` message to the admin list.
///
/// `log` only builds the message and hands it to an ``AlertMailer``, which spools it on local
/// disk and returns; delivery happens on the mailer's thread, so logging an error never waits
/// on the network. The level is fixed at `.error`: setting a lower level on a `Logger` does
/// not turn debug messages into mail.
public struct MailLogHandler: LogHandler {
    public let mailer: AlertMailer
    /// When given, alerts are gathered into one mail per run (``AlertDigest``).
    public let digest: AlertDigest?
    public let program: String
    public let label: String
    /// Sender address.
    public let from: String
    /// The admin list.
    public let recipients: [String]
    private let clock: @Sendable () -> Date
    private let threshold: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// `.error`, or `.critical` when the program's level is `.critical`; assignments are
    /// ignored, so a `Logger` set to `.debug` still mails only errors.
    public var logLevel: Logger.Level {
        get { threshold }
        set {}
    }

    /// - Parameters:
    ///   - level: The program's configured level; mail starts at `max(level, .error)`.
    public init(mailer: AlertMailer, program: String, label: String, from: String,
                recipients: [String], level: Logger.Level = .error, digest: AlertDigest? = nil,
                clock: @escaping @Sendable () -> Date = { Date() })
    {
        self.mailer = mailer
        self.digest = digest
        self.program = program
        self.label = label
        self.from = from
        self.recipients = recipients
        self.threshold = max(level, .error)
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= threshold, !recipients.isEmpty else { return }
        let message = Self.alert(event: event, program: program, label: label, from: from,
                                 recipients: recipients, date: clock(),
                                 metadata: mergedMetadata(metadata, metadataProvider, event.metadata))
        if let digest { digest.add(message, urgent: event.level == .critical) } else { mailer.send(message) }
    }

    /// The alert mail for one log event. Subject:
    /// `[wsa ERROR] <program>@<host>: <first 80 characters of the message>`.
    public static func alert(event: LogEvent, program: String, label: String, from: String,
                             recipients: [String], date: Date, metadata: Logger.Metadata)
        -> MailMessage
    {
        let host = ProcessFacts.hostName
        let text = event.message.description
        let level = event.level.rawValue.uppercased()
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        let subject = "[wsa \(level)] \(program)@\(host): \(oneLine.prefix(80))"
        var body = """
            Program:  \(program) (wsa \(WSAVersion.current))
            Host:     \(host)
            Process:  \(ProcessFacts.pid)
            Time:     \(UTCTime.iso8601(date))
            Level:    \(level)
            Logger:   \(label)
            Source:   \(event.file):\(event.line) \(event.function)

            \(text)

            """
        if !metadata.isEmpty {
            body += "\nMetadata:\n"
            for key in metadata.keys.sorted() {
                body += "  \(key) = \(LogLine.render(metadata[key]!))\n"
            }
        }
        return MailMessage(from: from, recipients: recipients, subject: subject, body: body, date: date)
    }
}
