public import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Gathers a run's ERROR alerts into one mail, so that a run with 500 bad files sends one
/// message (how many, and the first of them) rather than 500.
///
/// Each alert is written to the run's held file (`<mail spool>/held/<program>-<pid>.jsonl`)
/// before `error()` returns, so a killed run loses none: the next program start sends what a
/// dead process held (``sendLeftovers(in:send:)``). Alerts leave when the run ends
/// (``flush()``, called by ``WSALogging/shutdown(timeout:)``), when an urgent one (CRITICAL)
/// comes, or, in a long-running daemon, when the oldest waiting one is ``window`` old as the
/// next arrives. One waiting alert leaves as it is; more leave as one digest.
public final class AlertDigest: Sendable {
    /// How many alerts a digest quotes in full.
    public static let quoted = 10

    private let send: @Sendable (MailMessage) -> Void
    private let window: TimeInterval
    private let clock: @Sendable () -> Date
    private let program: String
    /// The held file, or nil to keep alerts in memory only.
    public let heldFile: String?
    private let waiting = Locked<[MailMessage]>([])

    /// - Parameters:
    ///   - heldDirectory: Where the held file goes (`<mail spool>/held`); nil: memory only.
    ///   - window: Seconds an alert may wait for others before they leave together.
    ///   - send: Hands a mail to the mailer (its spool).
    public init(program: String, heldDirectory: String? = nil, window: TimeInterval = 600,
                clock: @escaping @Sendable () -> Date = { Date() }, send: @escaping @Sendable (MailMessage) -> Void) {
        self.program = program
        self.window = window
        self.clock = clock
        self.send = send
        heldFile = heldDirectory.map { "\($0)/\(program)-\(getpid()).jsonl" }
        if let heldDirectory { try? FileManager.default.createDirectory(atPath: heldDirectory, withIntermediateDirectories: true) }
    }

    /// Keeps `alert` for the next mail (written to the held file first); `urgent` sends it, and
    /// what waits with it, at once.
    public func add(_ alert: MailMessage, urgent: Bool = false) {
        let due = waiting.withLock { waiting -> [MailMessage] in
            waiting.append(alert)
            hold(alert)
            guard urgent || clock().timeIntervalSince(waiting[0].date) >= window else { return [] }
            defer { waiting = [] }
            return waiting
        }
        leave(due)
    }

    /// Sends what is waiting: nothing, the one alert, or a digest of them all.
    public func flush() {
        leave(waiting.withLock { waiting -> [MailMessage] in
            defer { waiting = [] }
            return waiting
        })
    }

    private func leave(_ alerts: [MailMessage]) {
        guard let mail = Self.mail(alerts, program: program) else { return }
        send(mail)  // spooled (durably) before it returns
        if let heldFile { unlink(heldFile) }
    }

    private func hold(_ alert: MailMessage) {
        guard let heldFile, var line = try? JSONEncoder().encode(alert) else { return }
        line.append(0x0A)
        let fd = open(heldFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Sends, one mail per file, the alerts held by runs whose process is gone (killed before
    /// their digest left); returns how many files there were.
    @discardableResult
    public static func sendLeftovers(in directory: String, send: (MailMessage) -> Void) -> Int {
        var sent = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".jsonl") {
            let stem = name.dropLast(".jsonl".count)
            guard let dash = stem.lastIndex(of: "-"), let pid = Int32(stem[stem.index(after: dash)...]),
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = "\(directory)/\(name)"
            let alerts = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(MailMessage.self, from: Data($0.utf8)) }
            if let mail = Self.mail(alerts, program: String(stem[..<dash])) { send(mail) }
            unlink(path)
            sent += 1
        }
        return sent
    }

    /// The mail for `alerts`: nil for none, the alert itself for one, else a digest whose
    /// subject gives the count and the first alert's subject, and whose body quotes the first
    /// ``quoted`` alerts and lists the subjects of the rest.
    public static func mail(_ alerts: [MailMessage], program: String) -> MailMessage? {
        guard let first = alerts.first else { return nil }
        guard alerts.count > 1 else { return first }
        var subject = first.subject
        if let bracket = subject.range(of: "] ") {
            subject.replaceSubrange(bracket, with: "] \(alerts.count) errors, the first: ")
        }
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
