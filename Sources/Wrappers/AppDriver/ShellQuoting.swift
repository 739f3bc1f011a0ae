import Foundation

/// Quotes words for a POSIX shell, so a logged command line can be pasted back into one.
enum ShellQuoting {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-".unicodeScalars)

    /// The word unchanged when it needs no quoting, else in single quotes (`it's` → `'it'\''s'`).
    static func quote(_ word: String) -> String {
        if !word.isEmpty && word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The words quoted and joined by spaces.
    static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
