public import Foundation

/// A plain-text mail ready for SMTP: the envelope and the RFC 5322 message.
public struct MailMessage: Sendable, Equatable, Codable {
    /// Envelope sender and `From:`.
    public var from: String
    /// Envelope recipients and `To:`.
    public var recipients: [String]
    /// `Subject:` (any Unicode; encoded as needed).
    public var subject: String
    /// The text body (any Unicode; sent quoted-printable).
    public var body: String
    /// `Date:`
    public var date: Date
    /// `Message-ID:` without angle brackets; kept across retries so duplicates are recognisable.
    public var messageID: String

    public init(from: String, recipients: [String], subject: String, body: String,
                date: Date = Date(), messageID: String? = nil)
    {
        self.from = from
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
            ?? "\(UTCTime.compact(date)).\(UUID().uuidString.lowercased())@\(ProcessFacts.mailDomain)"
    }

    /// The complete message (headers, blank line, quoted-printable body) with CRLF line ends.
    public func rendered() -> String {
        let headers = [
            MailEncoding.header("From", from),
            MailEncoding.header("To", recipients.joined(separator: ", ")),
            MailEncoding.header("Subject", subject),
            MailEncoding.header("Date", UTCTime.rfc5322(date)),
            MailEncoding.header("Message-ID", "<\(messageID)>"),
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "Auto-Submitted: auto-generated",
            "X-Mailer: wsa \(WSAVersion.current)",
        ]
        return headers.joined(separator: "\r\n") + "\r\n\r\n"
            + MailEncoding.quotedPrintable(body) + "\r\n"
    }
}
