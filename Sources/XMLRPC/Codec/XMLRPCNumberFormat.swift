/// How numbers are written and read.
enum XMLRPCNumberFormat {
    /// The shortest text that reads back as exactly `d` (Swift's and Python's `repr` agree):
    /// `0.1`, `1e+300`, `5e-324`, `-0.0`. Infinities and NaN are written as Python writes them
    /// (`inf`, `-inf`, `nan`); strict XML-RPC 1.0 peers cannot read those, Python can.
    static func double(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    enum IntResult { case value(Int), malformed, outOfRange }

    /// Reads an integer: optional surrounding whitespace, an optional sign, decimal digits.
    static func parseInt(_ text: String) -> IntResult {
        var u = Substring(text).utf8[...]
        while let f = u.first, XMLBytes.isSpace(f) { u = u.dropFirst() }
        while let l = u.last, XMLBytes.isSpace(l) { u = u.dropLast() }
        var negative = false
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
            negative = f == UInt8(ascii: "-")
            u = u.dropFirst()
        }
        guard !u.isEmpty else { return .malformed }
        var v = 0
        var overflow = false
        for c in u {
            guard c >= 0x30 && c <= 0x39 else { return .malformed }
            if overflow { continue }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int(c - 0x30))
                                   : m.addingReportingOverflow(Int(c - 0x30))
            if o1 || o2 { overflow = true } else { v = s }
        }
        return overflow ? .outOfRange : .value(v)
    }

    enum DoubleResult { case value(Double), malformed, outOfRange }

    /// Reads a double: decimal notation with an optional exponent, or `inf`, `-inf`,
    /// `infinity`, `nan` (any case) as Python writes them. A finite literal too large for a
    /// double is out of range (not silently infinity).
    static func parseDouble(_ text: String) -> DoubleResult {
        var u = Substring(text).utf8[...]
        while let f = u.first, XMLBytes.isSpace(f) { u = u.dropFirst() }
        while let l = u.last, XMLBytes.isSpace(l) { u = u.dropLast() }
        guard !u.isEmpty, u.count <= 1000 else { return u.isEmpty ? .malformed : .outOfRange }
        let s = String(decoding: u, as: UTF8.self)
        var body = u
        if let f = body.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { body = body.dropFirst() }
        switch String(decoding: body, as: UTF8.self).lowercased() {
        case "inf", "infinity": return .value(u.first == UInt8(ascii: "-") ? -.infinity : .infinity)
        case "nan": return .value(.nan)
        default: break
        }
        // digits [. digits] [e [sign] digits], with at least one mantissa digit
        var i = body.startIndex
        var mantissaDigits = 0
        while i < body.endIndex, (0x30...0x39).contains(body[i]) { i = body.index(after: i); mantissaDigits += 1 }
        if i < body.endIndex, body[i] == UInt8(ascii: ".") {
            i = body.index(after: i)
            while i < body.endIndex, (0x30...0x39).contains(body[i]) { i = body.index(after: i); mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return .malformed }
        if i < body.endIndex, body[i] | 0x20 == UInt8(ascii: "e") {
            i = body.index(after: i)
            if i < body.endIndex, body[i] == UInt8(ascii: "-") || body[i] == UInt8(ascii: "+") { i = body.index(after: i) }
            var expDigits = 0
            while i < body.endIndex, (0x30...0x39).contains(body[i]) { i = body.index(after: i); expDigits += 1 }
            guard expDigits > 0 else { return .malformed }
        }
        guard i == body.endIndex, let d = Double(s) else { return .malformed }
        return d.isFinite ? .value(d) : .outOfRange
    }
}
