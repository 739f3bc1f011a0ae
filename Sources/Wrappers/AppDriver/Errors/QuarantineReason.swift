import Foundation

/// The reason a file was set aside, as the Quarantine table keeps it and a person reads it: one
/// line of at most ``maximumLength`` characters, without bytes quoted from the damaged file and
/// without machine paths. The full message (a cfitsio message stack, the paths) goes to the log.
public enum QuarantineReason {
    public static let maximumLength = 300
    /// Characters of a quoted value kept (`'ABC…'`).
    public static let quotedCharacters = 12

    /// `text` made fit for the Quarantine table:
    /// - absolute paths become their last component (`/data/archive/…/w2005_0001.fit` →
    ///   `w2005_0001.fit`);
    /// - anything outside printable ASCII (bytes of the file cfitsio quoted, control characters)
    ///   becomes `?`, and a run of them one `?`;
    /// - a quoted value is cut to a few characters;
    /// - the whole to ``maximumLength`` characters.
    public static func make(_ text: String) -> String {
        var line = ""
        var unprintable = false
        for scalar in text.unicodeScalars {
            if (0x20...0x7E).contains(scalar.value) || scalar == "…" || scalar == "×" || scalar == "−" {
                line.unicodeScalars.append(scalar)
                unprintable = false
            } else if !unprintable {
                line.append("?")
                unprintable = true
            }
        }
        line = withoutPaths(line)
        line = shortenedQuotes(line)
        line = line.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { line = "unreadable (no message)" }
        if line.count > maximumLength { line = String(line.prefix(maximumLength - 1)) + "…" }
        return line
    }

    /// Absolute paths (a `/` starting a word, with at least two components) → last component.
    static func withoutPaths(_ text: String) -> String {
        var result = "", word = ""
        func flush() {
            if word.hasPrefix("/"), word.dropFirst().contains("/") {
                let trailing = word.reversed().prefix { ".,;:)]'\"".contains($0) }
                let path = word.dropLast(trailing.count)
                result += (path.split(separator: "/").last.map(String.init) ?? "") + String(trailing.reversed())
            } else {
                result += word
            }
            word = ""
        }
        for character in text {
            if character == " " || character == "(" || character == "[" || character == "'" || character == "\"" || character == "=" {
                flush()
                result.append(character)
            } else {
                word.append(character)
            }
        }
        flush()
        return result
    }

    /// Quoted values longer than ``quotedCharacters`` cut to that many characters and `…`.
    static func shortenedQuotes(_ text: String) -> String {
        let parts = text.split(separator: "'", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return text }
        var result = ""
        for (i, part) in parts.enumerated() {
            if i > 0 { result += "'" }
            if i % 2 == 1, i < parts.count - 1, part.count > quotedCharacters {
                result += part.prefix(quotedCharacters) + "…"
            } else {
                result += part
            }
        }
        return result
    }
}
