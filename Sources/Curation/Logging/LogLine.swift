public import Foundation
public import Logging

/// The one-line text format of the log files:
///
///     2025-03-01T23:59:59.123Z ERROR cu4[4711] wsa.cu4: message text key=value other="two words"
///
/// ISO-8601 UTC timestamp, level, program[pid], logger label, message, metadata sorted by key.
/// Line breaks inside the message or values are escaped so every message is exactly one line.
public enum LogLine {
    /// Formats one message (with a trailing newline).
    public static func format(date: Date, level: Logger.Level, program: String, label: String,
                              message: String, metadata: Logger.Metadata) -> String
    {
        var line = "\(UTCTime.iso8601(date)) \(level.rawValue.uppercased()) "
            + "\(program)[\(ProcessFacts.pid)] \(label): \(escaped(message))"
        for key in metadata.keys.sorted() {
            line += " \(escaped(key))=\(quoted(render(metadata[key]!)))"
        }
        return line + "\n"
    }

    /// Text of a metadata value.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let items): "[" + items.map(render).joined(separator: ", ") + "]"
        case .dictionary(let dict):
            "{" + dict.keys.sorted().map { "\($0): \(render(dict[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    /// Escapes line breaks and other control characters.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Quotes a value if it has spaces, quotes or `=`.
    static func quoted(_ text: String) -> String {
        let plain = escaped(text)
        guard plain.isEmpty || plain.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else {
            return plain
        }
        return "\"" + plain.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
