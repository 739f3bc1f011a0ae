import Foundation

/// Where and how to reach the SMTP relay.
public struct SMTPSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The name announced in EHLO/HELO (default: this host's name).
    public var helo: String
    /// Seconds allowed for each step (connect, each reply).
    public var timeout: Double

    public init(host: String, port: Int, helo: String? = nil, timeout: Double = 30) {
        self.host = host
        self.port = port
        self.helo = helo ?? ProcessFacts.mailDomain
        self.timeout = timeout
    }

    /// The relay named in `[mail]`.
    public init(_ mail: WSAConfig.Mail) {
        self.init(host: mail.smtpHost, port: mail.smtpPort, helo: mail.helo, timeout: mail.timeout)
    }
}

/// What the relay did with each recipient of a delivered message.
public struct SMTPDeliveryReport: Sendable, Equatable {
    /// Recipients the relay accepted (the message was delivered to them).
    public var accepted: [String] = []
    /// Recipients refused with a 4xx code: try them again later.
    public var deferred: [String] = []
    /// Recipients refused with a 5xx code: never retried.
    public var rejected: [String] = []
}

/// A minimal SMTP client (RFC 5321): EHLO (falling back to HELO), MAIL FROM, RCPT TO for each
/// recipient, DATA with dot-stuffing, QUIT. Every reply code is checked. No TLS or AUTH yet:
/// it talks to a loopback or trusted relay; both would slot in after EHLO (the capabilities are
/// parsed) with a TLS ``SMTPTransport``.
public struct SMTPClient: Sendable {
    public var settings: SMTPSettings

    public init(settings: SMTPSettings) { self.settings = settings }

    /// Delivers one message.
    ///
    /// - Parameters:
    ///   - from: The envelope sender.
    ///   - recipients: The envelope recipients.
    ///   - data: The RFC 5322 message (any line ends; dot-stuffed here).
    ///   - abort: Lets another thread cut the exchange short.
    /// - Returns: Which recipients were accepted, deferred (4xx) or rejected (5xx).
    /// - Throws: ``CurationError`` `.smtpConnection` / `.smtpTransient` (retry later) or
    ///   `.smtpRejected` (the message or every recipient was refused permanently).
    public func deliver(from: String, recipients: [String], data: String,
                        abort: SMTPAbortHandle? = nil) throws -> SMTPDeliveryReport
    {
        if let problem = MailAddress.heloProblem(settings.helo) {
            throw CurationError(.mailAddress, "HELO name \"\(settings.helo)\": \(problem)")
        }
        guard !recipients.isEmpty else {
            throw CurationError(.smtpRejected, "mail has no recipients")
        }
        for address in [from] + recipients {
            if let problem = MailAddress.problem(address) {
                throw CurationError(.mailAddress, "mail address \"\(address)\": \(problem)")
            }
        }
        let transport = try TCPTransport(host: settings.host, port: settings.port,
                                         timeout: settings.timeout, abort: abort)
        defer { transport.close() }
        var session = SMTPSession(transport: transport, peer: transport.peer)
        return try session.deliver(helo: settings.helo, from: from, recipients: recipients, data: data)
    }
}

/// The dialogue of one SMTP connection over any transport.
struct SMTPSession {
    let transport: any SMTPTransport
    let peer: String
    private var parser = SMTPReplyParser()
    /// EHLO keywords the server announced (`8BITMIME`, `STARTTLS`, `AUTH PLAIN LOGIN` …).
    private(set) var capabilities: [String] = []

    init(transport: any SMTPTransport, peer: String) {
        self.transport = transport
        self.peer = peer
    }

    mutating func deliver(helo: String, from: String, recipients: [String], data: String) throws
        -> SMTPDeliveryReport
    {
        try expect(readReply(), [220], after: "connect")
        let ehlo = try command("EHLO \(helo)")
        if ehlo.code == 250 {
            capabilities = Array(ehlo.lines.dropFirst())
        } else if ehlo.isPermanentFailure {
            try expect(command("HELO \(helo)"), [250], after: "HELO")
        } else {
            try expect(ehlo, [250], after: "EHLO")
        }
        try expect(command("MAIL FROM:<\(from)>"), [250], after: "MAIL FROM")
        var report = SMTPDeliveryReport()
        var lastRefusal: SMTPReply? = nil
        for recipient in recipients {
            let reply = try command("RCPT TO:<\(recipient)>")
            if reply.code == 250 || reply.code == 251 {
                report.accepted.append(recipient)
            } else if reply.isPermanentFailure {
                report.rejected.append(recipient)
                lastRefusal = reply
            } else {
                report.deferred.append(recipient)
                lastRefusal = reply
            }
        }
        guard !report.accepted.isEmpty else {
            _ = try? command("QUIT")
            let reply = lastRefusal.map { ": \($0.text)" } ?? ""
            if report.deferred.isEmpty {
                throw CurationError(.smtpRejected, "SMTP server \(peer) refused every recipient\(reply)")
            }
            throw CurationError(.smtpTransient, "SMTP server \(peer) deferred the recipients\(reply)")
        }
        try expect(command("DATA"), [354], after: "DATA")
        try transport.send(Array((MailEncoding.dotStuffed(data) + ".\r\n").utf8))
        try expect(readReply(), [250], after: "end of DATA")
        // The message is accepted; a bad answer to QUIT changes nothing.
        _ = try? command("QUIT")
        return report
    }

    /// Sends one command line and reads its reply.
    mutating func command(_ line: String) throws -> SMTPReply {
        guard !line.contains("\r"), !line.contains("\n") else {
            throw CurationError(.mailAddress, "SMTP command with a line break refused")
        }
        try transport.send(Array((line + "\r\n").utf8))
        return try readReply()
    }

    mutating func readReply() throws -> SMTPReply {
        while true {
            do {
                if let reply = try parser.next() { return reply }
            } catch {
                throw CurationError(.smtpTransient, "SMTP server \(peer) sent a malformed reply",
                                    detail: "\(error)")
            }
            parser.feed(try transport.receive())
        }
    }

    /// Checks a reply code; 4xx and unexpected codes are transient, 5xx permanent.
    private func expect(_ reply: SMTPReply, _ codes: Set<Int>, after step: String) throws {
        guard !codes.contains(reply.code) else { return }
        let message = "SMTP server \(peer) answered \(step) with \(reply.text)"
        throw CurationError(reply.isPermanentFailure ? .smtpRejected : .smtpTransient, message)
    }
}
