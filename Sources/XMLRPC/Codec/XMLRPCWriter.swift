/// Writes XML-RPC documents as UTF-8 bytes.
///
/// Text is escaped as XML requires: `&`, `<` and `>` become entities (as Python does) and a
/// carriage return becomes `&#13;` (a literal CR would reach the receiver as LF, since XML
/// parsers normalise line ends). XML 1.0 cannot carry the other C0 control characters
/// (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F) nor U+FFFE/U+FFFF, not even as character
/// references, so a string holding one is refused with ``XMLRPCError/Code/invalidCharacter``
/// rather than silently changed; send such data as `base64`. (Python would write them raw and
/// its own parser would then fail on them.) Fault strings are the exception: a fault must
/// always be sendable, so those characters are replaced by U+FFFD there.
struct XMLRPCWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    /// Appends `s` escaped; throws for characters XML 1.0 cannot carry unless `replacing`.
    mutating func text(_ s: String, replacing: Bool = false) throws(XMLRPCError) {
        var s = s
        var bad: UInt32?
        s.withUTF8 { u in
            var runStart = 0
            var i = 0
            let n = u.count
            while i < n {
                let c = u[i]
                var replacement: StaticString?
                if c < 0x20 {
                    if c == 0x0D {
                        replacement = "&#13;"
                    } else if c != 0x09 && c != 0x0A {
                        if !replacing { bad = UInt32(c); return }
                        replacement = "\u{FFFD}"
                    }
                } else if c == UInt8(ascii: "&") {
                    replacement = "&amp;"
                } else if c == UInt8(ascii: "<") {
                    replacement = "&lt;"
                } else if c == UInt8(ascii: ">") {
                    replacement = "&gt;"
                } else if c == 0xEF, i + 2 < n, u[i + 1] == 0xBF, u[i + 2] >= 0xBE {
                    if !replacing { bad = u[i + 2] == 0xBE ? 0xFFFE : 0xFFFF; return }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i]))
                    raw("\u{FFFD}")
                    i += 3
                    runStart = i
                    continue
                }
                if let replacement {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i]))
                    raw(replacement)
                    runStart = i + 1
                }
                i += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<n]))
        }
        if let bad {
            throw XMLRPCError(.invalidCharacter,
                              "a string contains U+\(String(bad, radix: 16, uppercase: true).leftPadded(to: 4)), which XML 1.0 cannot carry; send such data as base64")
        }
    }

    mutating func value(_ v: XMLRPCValue) throws(XMLRPCError) {
        raw("<value>")
        switch v {
        case .int(let i):
            if Int32(exactly: i) != nil {
                raw("<int>"); raw(String(i)); raw("</int>")
            } else {
                raw("<i8>"); raw(String(i)); raw("</i8>")
            }
        case .bool(let b):
            raw(b ? "<boolean>1</boolean>" : "<boolean>0</boolean>")
        case .string(let s):
            raw("<string>"); try text(s); raw("</string>")
        case .double(let d):
            raw("<double>"); raw(XMLRPCNumberFormat.double(d)); raw("</double>")
        case .dateTime(let dt):
            raw("<dateTime.iso8601>"); raw(dt.description); raw("</dateTime.iso8601>")
        case .base64(let b):
            raw("<base64>"); Base64.encode(b, into: &bytes); raw("</base64>")
        case .struct(let members):
            raw("<struct>")
            for name in members.keys.sorted() {
                raw("<member><name>"); try text(name); raw("</name>")
                try value(members[name]!)
                raw("</member>")
            }
            raw("</struct>")
        case .array(let items):
            raw("<array><data>")
            for item in items { try value(item) }
            raw("</data></array>")
        case .nil:
            raw("<nil/>")
        }
        raw("</value>")
    }

    mutating func declaration() {
        raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
    }
}

extension XMLRPCValue {
    /// Checks that every string and member name can be written (see ``XMLRPCWriter``);
    /// throws ``XMLRPCError/Code/invalidCharacter`` naming the first offending character.
    func checkEncodable() throws(XMLRPCError) {
        switch self {
        case .string(let s): try XMLRPCValue.check(s)
        case .struct(let m):
            for (k, v) in m {
                try XMLRPCValue.check(k)
                try v.checkEncodable()
            }
        case .array(let a): for v in a { try v.checkEncodable() }
        default: break
        }
    }

    private static func check(_ s: String) throws(XMLRPCError) {
        for u in s.unicodeScalars where !XMLBytes.isXMLChar(u.value) {
            throw XMLRPCError(.invalidCharacter,
                              "a string contains U+\(String(u.value, radix: 16, uppercase: true).leftPadded(to: 4)), which XML 1.0 cannot carry; send such data as base64")
        }
    }
}
