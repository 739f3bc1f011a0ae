import Foundation

/// A header keyword value.
public enum FITSValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// A keyword present with an empty value field.
    case undefined

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as a number (ints widen to Double).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// The value as an integer; a float with no fractional part also counts.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e18: return Int(d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "T" : "F"
        case .undefined: return ""
        }
    }
}

/// One header card: a keyword with its value and comment, or commentary text
/// (COMMENT, HISTORY, blank keyword), in which case `value` is nil and `comment` holds the text.
public struct FITSCard: Sendable, Equatable {
    public var keyword: String
    public var value: FITSValue?
    public var comment: String

    public init(_ keyword: String, _ value: FITSValue?, comment: String = "") {
        self.keyword = keyword
        self.value = value
        self.comment = comment
    }

    /// True for COMMENT, HISTORY and blank-keyword cards.
    public var isCommentary: Bool { value == nil }
}

/// An ordered list of header cards with keyed look-up.
public struct FITSHeader: Sendable, Equatable, Sequence {
    public var cards: [FITSCard]

    public init(_ cards: [FITSCard] = []) { self.cards = cards }

    public func makeIterator() -> IndexingIterator<[FITSCard]> { cards.makeIterator() }

    /// The value of the first card with this keyword (case-insensitive).
    public subscript(_ keyword: String) -> FITSValue? {
        let k = keyword.uppercased()
        return cards.first { $0.keyword.uppercased() == k && $0.value != nil }?.value
    }

    public func string(_ keyword: String) -> String? { self[keyword]?.stringValue }
    public func double(_ keyword: String) -> Double? { self[keyword]?.doubleValue }
    public func int(_ keyword: String) -> Int? { self[keyword]?.intValue }
    public func bool(_ keyword: String) -> Bool? { self[keyword]?.boolValue }

    /// Appends a card, or replaces the value of an existing one with the same keyword.
    public mutating func set(_ keyword: String, _ value: FITSValue, comment: String = "") {
        let k = keyword.uppercased()
        if let i = cards.firstIndex(where: { $0.keyword.uppercased() == k && $0.value != nil }) {
            cards[i].value = value
            if !comment.isEmpty { cards[i].comment = comment }
        } else {
            cards.append(FITSCard(keyword, value, comment: comment))
        }
    }

    public mutating func append(_ card: FITSCard) { cards.append(card) }

    /// The header as FITS 80-character records (no END card), as wcslib's parser takes it.
    /// Long strings are cut to one card: this rendering is for WCS parsing, not for writing files.
    public func renderedRecords() -> String {
        var out = ""
        out.reserveCapacity(cards.count * 80)
        for card in cards {
            out += Self.render(card)
        }
        return out
    }

    static func render(_ card: FITSCard) -> String {
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? String(s.prefix(n)) : s + String(repeating: " ", count: n - s.count)
        }
        guard let value = card.value else {
            return pad(pad(card.keyword, 8) + card.comment, 80)
        }
        var text: String
        switch value {
        case .string(let s):
            let quoted = "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
            text = quoted.count < 20 ? pad(quoted, 20) : quoted
        case .int(let i): text = String(repeating: " ", count: Swift.max(0, 20 - String(i).count)) + String(i)
        case .double(let d):
            let s = String(format: "%.17G", d)
            let f = s.contains(".") || s.contains("E") ? s : s + "."
            text = String(repeating: " ", count: Swift.max(0, 20 - f.count)) + f
        case .bool(let b): text = String(repeating: " ", count: 19) + (b ? "T" : "F")
        case .undefined: text = ""
        }
        let key = card.keyword.count > 8 ? "HIERARCH " + card.keyword + " = " : pad(card.keyword, 8) + "= "
        var line = key + text
        if !card.comment.isEmpty { line += " / " + card.comment }
        return pad(line, 80)
    }
}
