public import Foundation
import SystemSupport

/// Gathers a run's ERROR alerts into one mail, so that a run with 500 bad files sends one
/// message (how many, and the first of them) rather than 500.
///
/// Alerts wait here until the run ends (``flush()``, called by ``WSALogging/shutdown(timeout:)``)
/// or, in a long-running daemon, until the oldest waiting alert is ``window`` old when the next
/// one comes. One waiting alert leaves as it is; more leave as one digest.
public final class AlertDigest: Sendable {
    /// How many alerts a digest quotes in full.
    public static let quoted = 10

    private let send: @Sendable (MailMessage) -> Void
    private let window: TimeInterval
    private let clock: @Sendable () -> Date
    private let program: String
    private let waiting = Locked<[MailMessage]>([])

    /// - Parameters:
    ///   - window: Seconds an alert may wait for others before they leave together.
    ///   - send: Hands a mail to the mailer (its spool).
    public init(program: String, window: TimeInterval = 600, clock: @escaping @Sendable () -> Date = { Date() },
                send: @escaping @Sendable (MailMessage) -> Void) {
        self.program = program
        self.window = window
        self.clock = clock
        self.send = send
    }

    /// Keeps `alert` for the next mail.
    public func add(_ alert: MailMessage) {
        let due = waiting.withLock { waiting -> [MailMessage] in
            waiting.append(alert)
            guard let first = waiting.first, clock().timeIntervalSince(first.date) >= window else { return [] }
            defer { waiting = [] }
            return waiting
        }
        if let mail = Self.mail(due, program: program) { send(mail) }
    }

    /// Sends what is waiting: nothing, the one alert, or a digest of them all.
    public func flush() {
        let due = waiting.withLock { waiting -> [MailMessage] in
            defer { waiting = [] }
            return waiting
        }
        if let mail = Self.mail(due, program: program) { send(mail) }
    }

    /// The mail for `alerts`: nil for none, the alert itself for one, else a digest whose
    /// subject gives the count and the first alert's subject, and whose body quotes the first
    /// ``quoted`` alerts and lists the subjects of the rest.
    public static func mail(_ alerts: [MailMessage], program: String) -> MailMessage? {
        guard let first = alerts.first else { return nil }
        guard alerts.count > 1 else { return first }
        let subject = first.subject.replacingOccurrences(of: "] ", with: "] \(alerts.count) errors, the first: ",
                                                         options: [], range: first.subject.range(of: "] "))
        var body = "\(alerts.count) ERROR messages from \(program) in this run; the first \(min(quoted, alerts.count)) follow in full"
        body += alerts.count > quoted ? ", then the subjects of the rest.\n\n" : ".\n\n"
        for (i, alert) in alerts.prefix(quoted).enumerated() {
            body += "=== \(i + 1) of \(alerts.count): \(alert.subject)\n\n\(alert.body)\n"
        }
        if alerts.count > quoted {
            body += "=== The rest:\n"
            for alert in alerts.dropFirst(quoted) { body += "- \(alert.subject)\n" }
        }
        var digest = first
        digest.subject = subject
        digest.body = body
        digest.messageID = first.messageID + ".digest"
        return digest
    }
}
