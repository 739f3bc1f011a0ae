import Foundation

/// MIME encodings for mail text: quoted-printable bodies (RFC 2045), encoded-word headers
/// (RFC 2047) and header folding (RFC 5322). Output is 7-bit with CRLF line ends.
enum MailEncoding {
    /// Quoted-printable encoding of UTF-8 text; line breaks (LF, CR or CRLF) become CRLF.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        let lines = normalizedLines(text)
        for (index, line) in lines.enumerated() {
            var current = [UInt8]()
            let bytes = Array(line.utf8)
            for (i, byte) in bytes.enumerated() {
                let isLast = i == bytes.count - 1
                var piece: [UInt8]
                let printable = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !isLast)
                if printable {
                    piece = [byte]
                } else {
                    piece = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                }
                // Soft line break keeps every encoded line at most 76 characters.
                if current.count + piece.count > 75 {
                    out += current + Array("=\r\n".utf8)
                    current = []
                }
                current += piece
            }
            out += current
            if index < lines.count - 1 { out += Array("\r\n".utf8) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits text into lines on LF, CR or CRLF.
    static func normalizedLines(_ text: String) -> [Substring] {
        let unified = text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\r", with: "\n")
        return Substring(unified).split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// A header field `Name: value`, folded to lines of at most 78 characters where white space
    /// allows; non-ASCII values become RFC 2047 encoded words. Control characters are replaced
    /// by spaces (no header injection).
    static func header(_ name: String, _ value: String) -> String {
        let clean = String(value.unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0)
        })
        if clean.unicodeScalars.allSatisfy(\.isASCII) {
            return fold("\(name): \(clean)")
        }
        return "\(name): " + encodedWords(clean).joined(separator: "\r\n ")
    }

    /// Folds a header line at spaces so lines stay within 78 characters when possible.
    static func fold(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count > 78 {
                lines.append(current)
                current = String(word)
            } else {
                current += " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n ")
    }

    /// `=?UTF-8?B?…?=` words of at most 60 characters (so even the first, after a header
    /// name, keeps the line within 78), split on character boundaries.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk = [UInt8]()
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 36, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
        }
        return words
    }

    /// SMTP DATA payload: CRLF line ends, lines starting with "." doubled (RFC 5321 §4.5.2),
    /// ending with CRLF, without the terminating "." line.
    static func dotStuffed(_ message: String) -> String {
        var lines = normalizedLines(message)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n") + "\r\n"
    }
}
