/// Checks applied to a raw body before tokenizing: size, byte-order mark, the XML declaration
/// and its encoding, then UTF-8 well-formedness and the XML 1.0 character set.
enum XMLInput {
    /// A body ready for the tokenizer: valid UTF-8 containing only XML 1.0 characters, and the
    /// offset where the document proper starts (after any BOM and XML declaration).
    struct Prepared {
        /// Transcoded bytes when the body was ISO-8859-1; nil when the original bytes are used.
        var transcoded: [UInt8]?
        var start: Int
    }

    static func prepare(_ b: UnsafeBufferPointer<UInt8>, limits: XMLRPCLimits) throws(XMLRPCError) -> Prepared {
        if b.count > limits.maximumBodyBytes {
            throw XMLRPCError(.transportError,
                              "request body of \(b.count) bytes exceeds the limit of \(limits.maximumBodyBytes) bytes")
        }
        var i = 0
        if b.count >= 2, (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) {
            throw XMLRPCError(.unsupportedEncoding, "UTF-16 bodies are not supported; send UTF-8")
        }
        if b.count >= 4, (b[0] == 0 && b[1] == 0x3C && b[2] == 0 && b[3] == 0x3F)
            || (b[0] == 0x3C && b[1] == 0 && b[2] == 0x3F && b[3] == 0) {
            throw XMLRPCError(.unsupportedEncoding, "UTF-16 bodies are not supported; send UTF-8")
        }
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }

        // The XML declaration (leading whitespace tolerated).
        var j = i
        while j < b.count, XMLBytes.isSpace(b[j]) { j += 1 }
        var latin1 = false
        if XMLBytes.hasPrefix(b, at: j, XMLBytes.xmlDecl),
           j + 5 < b.count, XMLBytes.isSpace(b[j + 5]) || b[j + 5] == UInt8(ascii: "?") {
            let (end, encoding) = try parseDeclaration(b, from: j + 5)
            if let encoding {
                switch encoding.lowercased() {
                case "utf-8", "utf8", "us-ascii", "ascii": break
                case "iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1": latin1 = true
                default:
                    throw XMLRPCError(.unsupportedEncoding,
                                      "encoding '\(encoding.prefix(40))' is not supported; send UTF-8")
                }
            }
            i = end
        }

        if latin1 {
            var out: [UInt8] = []
            out.reserveCapacity(b.count + b.count / 8)
            for c in b {
                if c < 0x80 { out.append(c) } else {
                    out.append(0xC0 | (c >> 6))
                    out.append(0x80 | (c & 0x3F))
                }
            }
            try out.withUnsafeBufferPointer { (o) throws(XMLRPCError) in try validate(o, from: i) }
            return Prepared(transcoded: out, start: i)
        }
        try validate(b, from: i)
        return Prepared(transcoded: nil, start: i)
    }

    /// Parses `version="1.0" encoding="…" standalone="…" ?>` after `<?xml`; returns the offset
    /// after `?>` and the declared encoding.
    static func parseDeclaration(_ b: UnsafeBufferPointer<UInt8>, from start: Int) throws(XMLRPCError) -> (Int, String?) {
        var i = start
        var encoding: String?
        var sawVersion = false
        func fail(_ why: String) -> XMLRPCError {
            XMLRPCError(.parseError, "malformed XML declaration: \(why)")
        }
        while true {
            var spaced = false
            while i < b.count, XMLBytes.isSpace(b[i]) { i += 1; spaced = true }
            guard i < b.count else { throw fail("unterminated") }
            if b[i] == UInt8(ascii: "?") {
                guard i + 1 < b.count, b[i + 1] == UInt8(ascii: ">") else { throw fail("expected '?>'") }
                guard sawVersion else { throw fail("no version") }
                return (i + 2, encoding)
            }
            guard spaced else { throw fail("expected whitespace") }
            let nameStart = i
            while i < b.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b[i]) { i += 1 }
            let name = String(decoding: UnsafeBufferPointer(rebasing: b[nameStart..<i]), as: UTF8.self)
            while i < b.count, XMLBytes.isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "=") else { throw fail("expected '='") }
            i += 1
            while i < b.count, XMLBytes.isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == 0x22 || b[i] == 0x27 else { throw fail("expected a quoted value") }
            let quote = b[i]
            i += 1
            let valueStart = i
            while i < b.count, b[i] != quote {
                guard b[i] >= 0x20, b[i] < 0x7F, b[i] != UInt8(ascii: "<") else { throw fail("bad character in value") }
                i += 1
            }
            guard i < b.count, i - valueStart <= 40 else { throw fail("unterminated value") }
            let value = String(decoding: UnsafeBufferPointer(rebasing: b[valueStart..<i]), as: UTF8.self)
            i += 1
            switch name {
            case "version":
                guard !sawVersion, encoding == nil, value.hasPrefix("1.") else { throw fail("bad version") }
                sawVersion = true
            case "encoding":
                guard sawVersion, encoding == nil, !value.isEmpty else { throw fail("misplaced encoding") }
                encoding = value
            case "standalone":
                guard sawVersion, value == "yes" || value == "no" else { throw fail("bad standalone") }
            default:
                throw fail("unknown pseudo-attribute")
            }
        }
    }

    /// Checks that `b[start...]` is well-formed UTF-8 and holds only XML 1.0 characters
    /// (tab, newline, carriage return, U+0020…U+D7FF, U+E000…U+FFFD, U+10000…U+10FFFF).
    static func validate(_ b: UnsafeBufferPointer<UInt8>, from start: Int) throws(XMLRPCError) {
        guard let base = b.baseAddress else { return }
        let n = b.count
        var i = start
        let raw = UnsafeRawPointer(base)
        while i < n {
            // Eight plain ASCII bytes (no byte >= 0x80 and none < 0x20) at a time.
            if i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let high: UInt64 = 0x8080_8080_8080_8080
                if w & high == 0 && (w &- 0x2020_2020_2020_2020) & ~w & high == 0 {
                    i += 8
                    continue
                }
            }
            let c = b[i]
            if c < 0x80 {
                if c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D {
                    throw XMLBytes.badCharacter(UInt32(c), at: i)
                }
                i += 1
                continue
            }
            @inline(__always) func cont(_ k: Int) -> Bool { k < n && b[k] & 0xC0 == 0x80 }
            if c < 0xC2 {
                throw XMLBytes.badUTF8(at: i)
            } else if c < 0xE0 {
                guard cont(i + 1) else { throw XMLBytes.badUTF8(at: i) }
                i += 2
            } else if c < 0xF0 {
                guard cont(i + 1), cont(i + 2) else { throw XMLBytes.badUTF8(at: i) }
                let c1 = b[i + 1]
                if c == 0xE0 && c1 < 0xA0 { throw XMLBytes.badUTF8(at: i) }  // overlong
                if c == 0xED && c1 >= 0xA0 { throw XMLBytes.badUTF8(at: i) }  // surrogate
                if c == 0xEF && c1 == 0xBF && b[i + 2] >= 0xBE {
                    throw XMLBytes.badCharacter(b[i + 2] == 0xBE ? 0xFFFE : 0xFFFF, at: i)
                }
                i += 3
            } else if c < 0xF5 {
                guard cont(i + 1), cont(i + 2), cont(i + 3) else { throw XMLBytes.badUTF8(at: i) }
                let c1 = b[i + 1]
                if c == 0xF0 && c1 < 0x90 { throw XMLBytes.badUTF8(at: i) }  // overlong
                if c == 0xF4 && c1 >= 0x90 { throw XMLBytes.badUTF8(at: i) }  // > U+10FFFF
                i += 4
            } else {
                throw XMLBytes.badUTF8(at: i)
            }
        }
    }
}

/// Byte-level helpers shared by the input checks and the tokenizer.
enum XMLBytes {
    static let xmlDecl: [UInt8] = Array("<?xml".utf8)
    static let commentOpen: [UInt8] = Array("<!--".utf8)
    static let commentClose: [UInt8] = Array("-->".utf8)
    static let cdataOpen: [UInt8] = Array("<![CDATA[".utf8)
    static let cdataClose: [UInt8] = Array("]]>".utf8)
    static let doctype: [UInt8] = Array("<!DOCTYPE".utf8)
    static let entity: [UInt8] = Array("<!ENTITY".utf8)

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D
    }
    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool {
        (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F || c == 0x3A || c >= 0x80
    }
    @inline(__always) static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
    }
    static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ p: [UInt8]) -> Bool {
        guard i >= 0, i + p.count <= b.count else { return false }
        for k in 0..<p.count where b[i + k] != p[k] { return false }
        return true
    }
    /// Whether `c` is a character XML 1.0 allows.
    static func isXMLChar(_ c: UInt32) -> Bool {
        switch c {
        case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }
    static func badUTF8(at i: Int) -> XMLRPCError {
        XMLRPCError(.invalidCharacter, "invalid UTF-8 at byte \(i)")
    }
    static func badCharacter(_ c: UInt32, at i: Int) -> XMLRPCError {
        XMLRPCError(.invalidCharacter,
                    "character U+\(String(c, radix: 16, uppercase: true).leftPadded(to: 4)) at byte \(i) is not allowed in XML 1.0")
    }
}
