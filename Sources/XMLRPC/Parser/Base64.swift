/// Standard base64 (RFC 4648 alphabet, `=` padding), as XML-RPC's `<base64>` uses.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Appends the encoding of `bytes` to `out`, without line breaks.
    static func encode(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = 0
        let n = bytes.count
        while i + 3 <= n {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        if n - i == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if n - i == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
    }

    /// Decodes base64 text, ignoring whitespace (Python writes 76-column lines); padding may
    /// be present or absent. Nil for any other character, data after padding, or a dangling
    /// single sextet.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    static func decode(_ u: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: u.count / 4 * 3 + 3) { out, written in
            table.withUnsafeBufferPointer { t in
                var o = 0
                var acc: UInt32 = 0
                var count = 0  // sextets in acc
                var padding = 0
                for c in u {
                    let v = t[Int(c)]
                    if v != 0xFF, padding == 0 {
                        acc = acc << 6 | UInt32(v)
                        count += 1
                        if count == 4 {
                            out[o] = UInt8(truncatingIfNeeded: acc >> 16)
                            out[o + 1] = UInt8(truncatingIfNeeded: acc >> 8)
                            out[o + 2] = UInt8(truncatingIfNeeded: acc)
                            o += 3
                            acc = 0
                            count = 0
                        }
                    } else if c == UInt8(ascii: "=") {
                        padding += 1
                    } else if !XMLBytes.isSpace(c) {
                        valid = false  // a foreign character, or data after padding
                        return
                    }
                }
                switch (count, padding) {
                case (0, 0): break
                case (2, 0), (2, 2):
                    out[o] = UInt8(truncatingIfNeeded: acc >> 4)
                    o += 1
                case (3, 0), (3, 1):
                    out[o] = UInt8(truncatingIfNeeded: acc >> 10)
                    out[o + 1] = UInt8(truncatingIfNeeded: acc >> 2)
                    o += 2
                default:
                    valid = false
                }
                written = o
            }
        }
        return valid ? out : nil
    }
}
