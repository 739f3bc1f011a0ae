/// Checks of the mail addresses and names that go into SMTP commands and headers.
///
/// Only plain `local@domain` addresses are accepted: no display names, comments, quoting,
/// white space or control characters, so nothing from the config can inject SMTP commands or
/// mail headers.
public enum MailAddress {
    private static let localSpecials = Set("!#$%&'*+-/=?^_`{|}~.".unicodeScalars)

    /// Why `address` is not acceptable, or nil if it is.
    public static func problem(_ address: String) -> String? {
        guard address.utf8.count <= 254 else { return "longer than 254 characters" }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return "expected a plain address local@domain"
        }
        for scalar in parts[0].unicodeScalars {
            let ok = (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || localSpecials.contains(scalar)
            guard ok else { return "character '\(scalar.escaped(asASCII: true))' is not allowed in the local part" }
        }
        if let problem = domainProblem(String(parts[1])) { return problem }
        return nil
    }

    /// Why `name` is not acceptable as an EHLO/HELO name, or nil if it is.
    public static func heloProblem(_ name: String) -> String? {
        domainProblem(name)
    }

    private static func domainProblem(_ domain: String) -> String? {
        if domain.hasPrefix("["), domain.hasSuffix("]") {
            let inner = domain.dropFirst().dropLast()
            let ok = !inner.isEmpty && inner.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isASCIIHexDigit || $0 == "." || $0 == ":"
                    || $0.properties.isAlphabetic)
            }
            return ok ? nil : "not a valid address literal"
        }
        guard !domain.isEmpty, domain.utf8.count <= 253 else { return "not a valid domain" }
        for scalar in domain.unicodeScalars {
            let ok = scalar.isASCII && (scalar.properties.isAlphabetic
                || ("0"..."9").contains(scalar) || scalar == "-" || scalar == ".")
            guard ok else { return "character '\(scalar.escaped(asASCII: true))' is not allowed in a domain" }
        }
        guard !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else {
            return "not a valid domain"
        }
        return nil
    }
}
