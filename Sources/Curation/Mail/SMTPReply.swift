/// One SMTP reply: a three-digit code and its text lines (RFC 5321 §4.2).
struct SMTPReply: Equatable {
    var code: Int
    var lines: [String]

    /// The text of all lines joined, for messages.
    var text: String { "\(code) " + lines.joined(separator: " / ") }

    /// 2xx
    var isPositive: Bool { (200..<400).contains(code) }
    /// 4xx: try again later.
    var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: do not retry.
    var isPermanentFailure: Bool { (500..<600).contains(code) }
}

/// Splits received bytes into SMTP replies; a pure parser, fed whatever the socket returns.
struct SMTPReplyParser {
    private var buffer: [UInt8] = []
    private var pendingLines: [String] = []
    private var pendingCode: Int? = nil

    /// Longest line accepted (RFC 5321 allows 512; be lenient but bounded).
    static let maxLineLength = 4096
    /// Most continuation lines accepted in one reply.
    static let maxLines = 200

    enum ParseError: Error, Equatable {
        case malformed(String)
        case tooLong
    }

    /// Adds received bytes.
    mutating func feed(_ bytes: [UInt8]) { buffer += bytes }

    /// The next complete reply, or nil if more bytes are needed.
    mutating func next() throws(ParseError) -> SMTPReply? {
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var lineBytes = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if lineBytes.last == UInt8(ascii: "\r") { lineBytes.removeLast() }
            guard lineBytes.count <= Self.maxLineLength else { throw .tooLong }
            let line = String(decoding: lineBytes, as: UTF8.self)
            let scalars = Array(line.utf8)
            guard scalars.count >= 3, scalars[0...2].allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let code = Int(String(line.prefix(3))), (200...599).contains(code)
            else { throw .malformed(String(line.prefix(80))) }
            let separator: UInt8 = scalars.count > 3 ? scalars[3] : UInt8(ascii: " ")
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
                throw .malformed(String(line.prefix(80)))
            }
            if let pendingCode, pendingCode != code { throw .malformed(String(line.prefix(80))) }
            pendingCode = code
            pendingLines.append(scalars.count > 4 ? String(line.dropFirst(4)) : "")
            guard pendingLines.count <= Self.maxLines else { throw .tooLong }
            if separator == UInt8(ascii: " ") {
                let reply = SMTPReply(code: code, lines: pendingLines)
                pendingLines = []
                self.pendingCode = nil
                return reply
            }
        }
        guard buffer.count <= Self.maxLineLength else { throw .tooLong }
        return nil
    }
}
