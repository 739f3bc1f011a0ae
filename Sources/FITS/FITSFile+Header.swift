import CCFITSIO
import Foundation

extension FITSFile {
    /// The raw 80-character records of the current HDU (no END). For a tile-compressed image,
    /// the header of the image it holds, as cfitsio converts it.
    public func headerRecords() throws -> String {
        String(decoding: try headerCards(), as: UTF8.self)
    }

    /// ``headerRecords()`` as the bytes cfitsio gives (80 per card), not decoded: a damaged
    /// header's bytes stay where they were, so the cards stay 80 bytes apart.
    public func headerCards() throws -> [UInt8] {
        var text: UnsafeMutablePointer<CChar>?
        var nkeys: Int32 = 0
        let compressed = try isCompressedImage()
        try call(.readFailed, "read header") { fptr, status in
            if compressed {
                ffcnvthdr2str(fptr, 0, nil, 0, &text, &nkeys, &status)
            } else {
                ffhdr2str(fptr, 0, nil, 0, &text, &nkeys, &status)
            }
        }
        guard let text else { return [] }
        defer { var s: Int32 = 0; fffree(text, &s) }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }

    /// Every card of the current HDU, long strings (CONTINUE) joined.
    public func header() throws -> FITSHeader {
        FITSHeader(parsingRecords: try headerRecords())
    }

    /// The value of one keyword of the current HDU, or nil if it is absent.
    /// Long strings (CONTINUE) are joined; HIERARCH keywords are named without `HIERARCH`.
    public func readKey(_ keyword: String) throws -> FITSValue? {
        var value = [CChar](repeating: 0, count: Int(FLEN_VALUE) + 1)
        var status: Int32 = 0
        guard let fptr else {
            throw error(.readFailed, "read keyword \(keyword)", "the file is closed")
        }
        ffgkey(fptr, keyword, &value, nil, &status)
        if status == KEY_NO_EXIST {
            ffcmsg()
            return nil
        }
        if let e = fitsStatusError(status, code: .keywordInvalid, file: path, hdu: currentHDU,
                                   operation: "read keyword \(keyword)") {
            throw e
        }
        let raw = String(cChars: value)
        let parsed = FITSHeader.parseValue(raw)
        if case .string(let s) = parsed, s.hasSuffix("&") {
            var long: UnsafeMutablePointer<CChar>?
            try call(.keywordInvalid, "read long string \(keyword)") { ffgkls($0, keyword, &long, nil, &$1) }
            guard let long else { return parsed }
            defer { var s: Int32 = 0; fffree(long, &s) }
            return .string(String(cString: long))
        }
        return parsed
    }

    /// A keyword that must be present, as a string.
    public func requireString(_ keyword: String) throws -> String {
        guard let v = try readKey(keyword) else {
            throw error(.keywordMissing, "read keyword \(keyword)", "keyword \(keyword) is missing")
        }
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "T" : "F"
        case .undefined:
            throw error(.keywordInvalid, "read keyword \(keyword)", "keyword \(keyword) has no value")
        }
    }

    /// A keyword that must be present and numeric.
    public func requireDouble(_ keyword: String) throws -> Double {
        guard let v = try readKey(keyword) else {
            throw error(.keywordMissing, "read keyword \(keyword)", "keyword \(keyword) is missing")
        }
        guard let d = v.doubleValue, d.isFinite else {
            throw error(.keywordInvalid, "read keyword \(keyword)",
                        "keyword \(keyword) is not a number: \(v)")
        }
        return d
    }

    /// A keyword that must be present and integral.
    public func requireInt(_ keyword: String) throws -> Int {
        guard let v = try readKey(keyword) else {
            throw error(.keywordMissing, "read keyword \(keyword)", "keyword \(keyword) is missing")
        }
        guard let i = v.intValue else {
            throw error(.keywordInvalid, "read keyword \(keyword)",
                        "keyword \(keyword) is not an integer: \(v)")
        }
        return i
    }

    /// Writes a keyword, replacing it if present. Keywords longer than 8 characters or with
    /// spaces use the HIERARCH convention; strings longer than a card use CONTINUE.
    public func setKey(_ keyword: String, _ value: FITSValue, comment: String = "") throws {
        let comm: String? = comment.isEmpty ? nil : comment
        try call(.headerWriteFailed, "write keyword \(keyword)") { fptr, status in
            switch value {
            case .string(let s):
                if s.utf8.count > 68 {
                    var present = [CChar](repeating: 0, count: Int(FLEN_VALUE) + 1)
                    var probe: Int32 = 0
                    ffgkey(fptr, "LONGSTRN", &present, nil, &probe)
                    if probe != 0 {
                        ffcmsg()
                        ffplsw(fptr, &status)
                    }
                    ffukls(fptr, keyword, s, comm, &status)
                } else {
                    ffukys(fptr, keyword, s, comm, &status)
                }
            case .int(let i): ffukyj(fptr, keyword, Int64(i), comm, &status)
            case .double(let d): ffukyd(fptr, keyword, d, -15, comm, &status)
            case .bool(let b): ffukyl(fptr, keyword, b ? 1 : 0, comm, &status)
            case .undefined: ffukyu(fptr, keyword, comm, &status)
            }
        }
    }

    /// Writes every card of a header (values replace existing keywords; commentary is appended).
    public func setKeys(_ header: FITSHeader) throws {
        for card in header.cards {
            if let value = card.value {
                try setKey(card.keyword, value, comment: card.comment)
            } else if card.keyword.uppercased() == "HISTORY" {
                try addHistory(card.comment)
            } else {
                try addComment(card.comment)
            }
        }
    }

    /// Removes a keyword if present.
    public func deleteKey(_ keyword: String) throws {
        guard try readKey(keyword) != nil else { return }
        try call(.headerWriteFailed, "delete keyword \(keyword)") { ffdkey($0, keyword, &$1) }
    }

    public func addComment(_ text: String) throws {
        try call(.headerWriteFailed, "write COMMENT") { ffpcom($0, text, &$1) }
    }

    public func addHistory(_ text: String) throws {
        try call(.headerWriteFailed, "write HISTORY") { ffphis($0, text, &$1) }
    }

    /// Writes CHECKSUM and DATASUM for the current HDU (call after its data are written).
    public func writeChecksum() throws {
        try call(.headerWriteFailed, "write CHECKSUM") { ffpcks($0, &$1) }
    }

    /// Verifies CHECKSUM/DATASUM of the current HDU: true if both are present and correct,
    /// false if either is wrong, nil if absent.
    public func verifyChecksum() throws -> Bool? {
        var data: Int32 = 0, hdu: Int32 = 0
        try call(.readFailed, "verify CHECKSUM") { ffvcks($0, &data, &hdu, &$1) }
        if data == -1 || hdu == -1 { return false }
        if data == 0 && hdu == 0 { return nil }
        return true
    }
}

extension FITSHeader {
    /// Parses FITS 80-character records (as cfitsio's `fits_hdr2str` returns them).
    public init(parsingRecords text: String) {
        var cards: [FITSCard] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = Swift.min(i + 80, bytes.count)
            let record = String(decoding: bytes[i..<end], as: UTF8.self)
            i = end
            let key = String(record.prefix(8)).trimmingCharacters(in: .whitespaces)
            if key == "END" { break }
            if key == "CONTINUE", let last = cards.indices.last,
               case .string(let s)? = cards[last].value, s.hasSuffix("&") {
                let rest = String(record.dropFirst(8))
                let (value, comment) = Self.splitValueComment(rest)
                if case .string(let more) = Self.parseValue(value) {
                    cards[last].value = .string(String(s.dropLast()) + more)
                    if !comment.isEmpty { cards[last].comment = comment }
                }
                continue
            }
            if record.hasPrefix("HIERARCH "), let eq = record.firstIndex(of: "=") {
                let name = record[record.index(record.startIndex, offsetBy: 9)..<eq]
                    .trimmingCharacters(in: .whitespaces)
                let (value, comment) = Self.splitValueComment(String(record[record.index(after: eq)...]))
                cards.append(FITSCard(name, Self.parseValue(value), comment: comment))
                continue
            }
            let indicator = record.count >= 10
                ? String(record[record.index(record.startIndex, offsetBy: 8)..<record.index(record.startIndex, offsetBy: 10)])
                : ""
            if indicator == "= " && key != "COMMENT" && key != "HISTORY" && !key.isEmpty {
                let (value, comment) = Self.splitValueComment(String(record.dropFirst(10)))
                cards.append(FITSCard(key, Self.parseValue(value), comment: comment))
            } else {
                let text = String(record.dropFirst(8))
                cards.append(FITSCard(key, nil, comment: text.trimmingTrailingSpaces()))
            }
        }
        self.init(cards)
    }

    /// Splits the part of a card after `= ` into the value text and the comment.
    static func splitValueComment(_ s: String) -> (String, String) {
        var inString = false
        let chars = Array(s)
        var idx = 0
        while idx < chars.count {
            let c = chars[idx]
            if c == "'" {
                if inString, idx + 1 < chars.count, chars[idx + 1] == "'" {
                    idx += 2
                    continue
                }
                inString.toggle()
            } else if c == "/" && !inString {
                let value = String(chars[0..<idx]).trimmingCharacters(in: .whitespaces)
                let comment = String(chars[(idx + 1)...]).trimmingCharacters(in: .whitespaces)
                return (value, comment)
            }
            idx += 1
        }
        return (s.trimmingCharacters(in: .whitespaces), "")
    }

    /// Parses a FITS value field: quoted string, logical, integer or real (E or D exponent).
    public static func parseValue(_ raw: String) -> FITSValue {
        let v = raw.trimmingCharacters(in: .whitespaces)
        if v.isEmpty { return .undefined }
        if v.hasPrefix("'") {
            var body = v.dropFirst()
            if body.hasSuffix("'") { body = body.dropLast() }
            let s = String(body).replacingOccurrences(of: "''", with: "'")
            return .string(s.trimmingTrailingSpaces())
        }
        if v == "T" { return .bool(true) }
        if v == "F" { return .bool(false) }
        if let i = Int(v) { return .int(i) }
        if v.hasPrefix("+"), let i = Int(v.dropFirst()) { return .int(i) }
        let normalised = v.replacingOccurrences(of: "D", with: "E").replacingOccurrences(of: "d", with: "e")
        if let d = Double(normalised) { return .double(d) }
        return .string(v)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
