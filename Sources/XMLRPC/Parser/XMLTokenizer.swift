/// A small pull tokenizer for the XML that XML-RPC uses, working on UTF-8 bytes that
/// ``XMLInput/prepare(_:limits:)`` has already checked.
///
/// It handles elements (start, end, empty-element tags), attributes (checked and ignored),
/// text, comments, CDATA sections, the five predefined entities and numeric character
/// references, and normalises line ends as XML requires (CR LF and lone CR become LF; a
/// `&#13;` reference keeps its CR). It refuses document type declarations, entity
/// declarations, any other entity reference, processing instructions, nesting beyond the
/// limit, mismatched or missing tags and anything else that is not well-formed. It never
/// fetches anything and never expands anything but single characters, so its work and memory
/// are linear in the input.
///
/// Text between two tags is delivered as one event, comments and CDATA folded in. An
/// empty-element tag `<x/>` yields a start and an end event.
struct XMLTokenizer {
    enum Event: Equatable {
        /// A start tag, with the element's local name (any `prefix:` removed).
        case start(String)
        /// The end of the innermost open element (its name has been checked).
        case end
        /// Character data.
        case text(String)
        /// The end of the document (after the root element closed).
        case endOfDocument
    }

    private let b: UnsafeBufferPointer<UInt8>
    private var pos: Int
    private var stack: [Range<Int>] = []
    private var pendingEnd = false
    private var rootSeen = false
    private var scratch: [UInt8] = []
    private let maximumDepth: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, maximumDepth: Int) {
        self.b = bytes
        self.pos = start
        self.maximumDepth = maximumDepth
        stack.reserveCapacity(min(maximumDepth, 64))
    }

    /// The current nesting depth (number of open elements).
    var depth: Int { stack.count }

    /// The qualified name of the innermost open element, for messages.
    var currentElement: String {
        guard let r = stack.last else { return "document" }
        return String(decoding: UnsafeBufferPointer(rebasing: b[r.prefix(64)]), as: UTF8.self)
    }

    /// The current byte offset, for messages.
    var offset: Int { pos }

    // MARK: Events

    mutating func next() throws(XMLRPCError) -> Event {
        if pendingEnd {
            pendingEnd = false
            stack.removeLast()
            return .end
        }
        if stack.isEmpty { return try nextOutsideRoot() }
        let n = b.count
        while true {
            guard pos < n else { throw truncated() }
            if b[pos] == UInt8(ascii: "<") {
                guard pos + 1 < n else { throw truncated() }
                switch b[pos + 1] {
                case UInt8(ascii: "/"):
                    return try endTag()
                case UInt8(ascii: "?"):
                    throw refusedPI()
                case UInt8(ascii: "!"):
                    if XMLBytes.hasPrefix(b, at: pos, XMLBytes.commentOpen)
                        || XMLBytes.hasPrefix(b, at: pos, XMLBytes.cdataOpen) {
                        let t = try text()
                        if t.isEmpty { continue }
                        return .text(t)
                    }
                    throw refusedDeclaration()
                default:
                    return try startTag()
                }
            }
            return .text(try text())
        }
    }

    /// Prolog and epilog: whitespace and comments only, plus the one root element.
    private mutating func nextOutsideRoot() throws(XMLRPCError) -> Event {
        let n = b.count
        while true {
            while pos < n, XMLBytes.isSpace(b[pos]) { pos += 1 }
            guard pos < n else {
                if rootSeen { return .endOfDocument }
                throw error(.parseError, pos == 0 ? "empty body" : "no root element")
            }
            if b[pos] == UInt8(ascii: "<"), pos + 1 == n { throw truncated() }
            guard b[pos] == UInt8(ascii: "<") else {
                throw error(.parseError, rootSeen ? "content after the root element" : "text before the root element")
            }
            switch b[pos + 1] {
            case UInt8(ascii: "!"):
                if XMLBytes.hasPrefix(b, at: pos, XMLBytes.commentOpen) {
                    try skipComment()
                    continue
                }
                throw refusedDeclaration()
            case UInt8(ascii: "?"):
                throw refusedPI()
            case UInt8(ascii: "/"):
                throw error(.parseError, "end tag without a start tag")
            default:
                if rootSeen { throw error(.parseError, "content after the root element") }
                rootSeen = true
                return try startTag()
            }
        }
    }

    // MARK: Tags

    private mutating func startTag() throws(XMLRPCError) -> Event {
        pos += 1  // '<'
        let name = try parseName(what: "element name after '<'")
        if stack.count >= maximumDepth {
            throw error(.parseError, "elements are nested deeper than the limit of \(maximumDepth)")
        }
        stack.append(name)
        let n = b.count
        while true {
            var spaced = false
            while pos < n, XMLBytes.isSpace(b[pos]) { pos += 1; spaced = true }
            guard pos < n else { throw truncated() }
            switch b[pos] {
            case UInt8(ascii: ">"):
                pos += 1
                return .start(localName(name))
            case UInt8(ascii: "/"):
                guard pos + 1 < n else { throw truncated() }
                guard b[pos + 1] == UInt8(ascii: ">") else { throw error(.parseError, "expected '/>'") }
                pos += 2
                pendingEnd = true
                return .start(localName(name))
            default:
                guard spaced else { throw error(.parseError, "expected whitespace, '>' or '/>' in a start tag") }
                try skipAttribute()
            }
        }
    }

    /// Checks one `name = "value"` attribute and discards it.
    private mutating func skipAttribute() throws(XMLRPCError) {
        _ = try parseName(what: "attribute name")
        let n = b.count
        while pos < n, XMLBytes.isSpace(b[pos]) { pos += 1 }
        guard pos < n else { throw truncated() }
        guard b[pos] == UInt8(ascii: "=") else { throw error(.parseError, "expected '=' after an attribute name") }
        pos += 1
        while pos < n, XMLBytes.isSpace(b[pos]) { pos += 1 }
        guard pos < n else { throw truncated() }
        let quote = b[pos]
        guard quote == 0x22 || quote == 0x27 else { throw error(.parseError, "attribute value must be quoted") }
        pos += 1
        while true {
            guard pos < n else { throw truncated() }
            let c = b[pos]
            if c == quote { pos += 1; return }
            if c == UInt8(ascii: "<") { throw error(.parseError, "'<' in an attribute value") }
            if c == UInt8(ascii: "&") {
                _ = try reference()
            } else {
                pos += 1
            }
        }
    }

    private mutating func endTag() throws(XMLRPCError) -> Event {
        let tagStart = pos
        pos += 2  // '</'
        let name = try parseName(what: "element name after '</'")
        let n = b.count
        while pos < n, XMLBytes.isSpace(b[pos]) { pos += 1 }
        guard pos < n else { throw truncated() }
        guard b[pos] == UInt8(ascii: ">") else { throw error(.parseError, "expected '>' to close an end tag") }
        let open = stack[stack.count - 1]
        guard name.count == open.count,
              name.indices.allSatisfy({ b[$0] == b[open.lowerBound + ($0 - name.lowerBound)] })
        else {
            pos = tagStart
            let found = String(decoding: UnsafeBufferPointer(rebasing: b[name.prefix(64)]), as: UTF8.self)
            throw error(.parseError, "end tag </\(found)> does not match <\(currentElement)>")
        }
        pos += 1
        stack.removeLast()
        return .end
    }

    private mutating func parseName(what: String) throws(XMLRPCError) -> Range<Int> {
        let start = pos
        let n = b.count
        guard pos < n else { throw truncated() }
        guard XMLBytes.isNameStart(b[pos]) else { throw error(.parseError, "expected an \(what)") }
        pos += 1
        while pos < n, XMLBytes.isNameChar(b[pos]) { pos += 1 }
        return start..<pos
    }

    private func localName(_ r: Range<Int>) -> String {
        var s = r.lowerBound
        for i in r where b[i] == UInt8(ascii: ":") { s = i + 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[s..<r.upperBound]), as: UTF8.self)
    }

    // MARK: Text

    /// Reads character data up to the next tag, folding in comments, CDATA sections and
    /// references.
    private mutating func text() throws(XMLRPCError) -> String {
        let n = b.count
        let start = pos
        // Fast path: a plain run of characters ending at a tag.
        var i = pos
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "<") || c == UInt8(ascii: "&") || c == 0x0D { break }
            i += 1
        }
        if i + 1 < n, b[i] == UInt8(ascii: "<"), b[i + 1] != UInt8(ascii: "!") {
            pos = i
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
        pos = i
        while true {
            guard pos < n else { throw truncated() }
            let c = b[pos]
            if c == UInt8(ascii: "<") {
                if XMLBytes.hasPrefix(b, at: pos, XMLBytes.commentOpen) {
                    try skipComment()
                } else if XMLBytes.hasPrefix(b, at: pos, XMLBytes.cdataOpen) {
                    try appendCDATA()
                } else {
                    break
                }
            } else if c == UInt8(ascii: "&") {
                let scalar = try reference()
                if scalar.isASCII {
                    scratch.append(UInt8(scalar.value))
                } else {
                    scratch.append(contentsOf: UTF8.encode(scalar)!)
                }
            } else if c == 0x0D {
                scratch.append(0x0A)
                pos += 1
                if pos < n, b[pos] == 0x0A { pos += 1 }
            } else {
                let runStart = pos
                while pos < n {
                    let d = b[pos]
                    if d == UInt8(ascii: "<") || d == UInt8(ascii: "&") || d == 0x0D { break }
                    pos += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<pos]))
            }
        }
        return String(decoding: scratch, as: UTF8.self)
    }

    private mutating func skipComment() throws(XMLRPCError) {
        guard let end = find(XMLBytes.commentClose, from: pos + 4) else {
            throw error(.parseError, "unterminated comment")
        }
        pos = end + 3
    }

    private mutating func appendCDATA() throws(XMLRPCError) {
        let from = pos + XMLBytes.cdataOpen.count
        guard let end = find(XMLBytes.cdataClose, from: from) else {
            throw error(.parseError, "unterminated CDATA section")
        }
        var i = from
        while i < end {
            if b[i] == 0x0D {
                scratch.append(0x0A)
                if i + 1 < end, b[i + 1] == 0x0A { i += 1 }
            } else {
                scratch.append(b[i])
            }
            i += 1
        }
        pos = end + 3
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        let n = b.count, first = needle[0]
        var i = from
        while i + needle.count <= n {
            if b[i] == first, XMLBytes.hasPrefix(b, at: i, needle) { return i }
            i += 1
        }
        return nil
    }

    /// Decodes `&…;` at `pos`: one of the five predefined entities or a character reference.
    /// Everything else is refused.
    private mutating func reference() throws(XMLRPCError) -> Unicode.Scalar {
        let n = b.count
        var semi = pos + 1
        while semi < n, semi - pos <= 64, b[semi] != UInt8(ascii: ";") {
            guard XMLBytes.isNameChar(b[semi]) || b[semi] == UInt8(ascii: "#") else { break }
            semi += 1
        }
        guard semi < n, b[semi] == UInt8(ascii: ";"), semi > pos + 1 else {
            if semi >= n { throw truncated() }
            throw error(.parseError, "'&' must start an entity or character reference ending in ';' (write '&amp;' for a literal '&')")
        }
        let name = UnsafeBufferPointer(rebasing: b[(pos + 1)..<semi])
        let scalar: Unicode.Scalar
        if name[0] == UInt8(ascii: "#") {
            scalar = try characterReference(name)
        } else {
            switch (name.count, name[0], name[name.count - 1]) {
            case (2, UInt8(ascii: "l"), UInt8(ascii: "t")): scalar = "<"
            case (2, UInt8(ascii: "g"), UInt8(ascii: "t")): scalar = ">"
            case (3, UInt8(ascii: "a"), UInt8(ascii: "p")) where name[1] == UInt8(ascii: "m"):
                scalar = "&"
            case (4, UInt8(ascii: "q"), UInt8(ascii: "t")) where name[1] == UInt8(ascii: "u") && name[2] == UInt8(ascii: "o"):
                scalar = "\""
            case (4, UInt8(ascii: "a"), UInt8(ascii: "s")) where name[1] == UInt8(ascii: "p") && name[2] == UInt8(ascii: "o"):
                scalar = "'"
            default:
                throw error(.parseError,
                            "entity reference '&\(String(decoding: name, as: UTF8.self));' refused: only &lt; &gt; &amp; &quot; &apos; and character references are allowed")
            }
        }
        pos = semi + 1
        return scalar
    }

    private func characterReference(_ name: UnsafeBufferPointer<UInt8>) throws(XMLRPCError) -> Unicode.Scalar {
        var value: UInt32 = 0
        let hex = name.count > 1 && name[1] == UInt8(ascii: "x")
        let digits = UnsafeBufferPointer(rebasing: name[(hex ? 2 : 1)...])
        guard !digits.isEmpty else { throw error(.parseError, "empty character reference") }
        for d in digits {
            let v: UInt32
            switch d {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(d - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: v = UInt32(d - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: v = UInt32(d - 0x41 + 10)
            default: throw error(.parseError, "malformed character reference")
            }
            value = value * (hex ? 16 : 10) + v
            if value > 0x10FFFF { throw error(.invalidCharacter, "character reference beyond U+10FFFF") }
        }
        guard XMLBytes.isXMLChar(value), let scalar = Unicode.Scalar(value) else {
            throw error(.invalidCharacter,
                        "character reference to U+\(String(value, radix: 16, uppercase: true).leftPadded(to: 4)), which XML 1.0 does not allow")
        }
        return scalar
    }

    // MARK: Errors

    private func truncated() -> XMLRPCError {
        error(.parseError, stack.isEmpty ? "unexpected end of body" : "unexpected end of body inside <\(currentElement)>")
    }

    private func refusedPI() -> XMLRPCError {
        if XMLBytes.hasPrefix(b, at: pos, XMLBytes.xmlDecl), pos + 5 < b.count,
           XMLBytes.isSpace(b[pos + 5]) || b[pos + 5] == UInt8(ascii: "?") {
            return error(.parseError, "XML declaration not at the start of the body")
        }
        return error(.parseError, "processing instructions are refused")
    }

    private func refusedDeclaration() -> XMLRPCError {
        if XMLBytes.hasPrefix(b, at: pos, XMLBytes.doctype) {
            return error(.parseError, "document type declarations (<!DOCTYPE) are refused")
        }
        if XMLBytes.hasPrefix(b, at: pos, XMLBytes.entity) {
            return error(.parseError, "entity declarations (<!ENTITY) are refused")
        }
        if XMLBytes.hasPrefix(b, at: pos, XMLBytes.cdataOpen) {
            return error(.parseError, "CDATA section outside an element")
        }
        return error(.parseError, "markup declarations (<!…) are refused")
    }

    /// An error located at the current position ("line L, column C" in bytes).
    func error(_ code: XMLRPCError.Code, _ message: String) -> XMLRPCError {
        var line = 1, lineStart = 0
        let end = min(pos, b.count)
        for i in 0..<end where b[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return XMLRPCError(code, "\(message) (line \(line), column \(end - lineStart + 1))")
    }
}
