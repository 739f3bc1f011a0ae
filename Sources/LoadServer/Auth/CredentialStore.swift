import Foundation
import RPCContract

/// The users of `dbrpcserver` and their roles, read from a credentials file.
///
/// One user per line, `name:role:hash`; blank lines and lines starting with `#` are ignored:
///
/// ```
/// # dbrpcserver users (make a line with `CredentialStore.line(user:role:password:)`)
/// alice:curator:pbkdf2-sha256$210000$3q2+7w...$Vd2s...
/// bob:reader:pbkdf2-sha256$210000$AAECAw...$9f3k...
/// ```
///
/// - name: 1–64 characters of `A–Z a–z 0–9 . _ -`, each name once;
/// - role: `curator` (may write) or `reader` (may only read);
/// - hash: a ``PasswordHash`` in its encoded form.
public struct CredentialStore: Sendable {
    /// The roles a user may have.
    public static let roles = ["curator", "reader"]
    /// The longest user name, in characters.
    public static let maximumUserLength = 64

    private struct Entry: Sendable {
        var role: String
        var hash: PasswordHash
    }

    private var entries: [String: Entry]
    /// The user names in file order.
    public let users: [String]
    /// Verified against for an unknown user, so that the answer takes as long as for a known
    /// one. It has the largest iteration count in the file and a random key no password can
    /// be expected to match.
    private let dummy: PasswordHash

    /// Reads the credentials file at `path`.
    ///
    /// - Throws: ``LoadServerError`` (``LoadServerError/Code/invalidArgument``) when the file
    ///   cannot be read, or naming the file and line of the first bad line.
    public init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadServerError(.invalidArgument,
                                  "cannot read the credentials file \(path): \(error.localizedDescription)")
        }
        try self.init(text: text, source: path)
    }

    /// Parses the text of a credentials file; `source` names it in error messages.
    ///
    /// - Throws: ``LoadServerError`` (``LoadServerError/Code/invalidArgument``) of the form
    ///   `users.txt:3: unknown role "admin" (expected curator or reader)`.
    public init(text: String, source: String) throws {
        var entries: [String: Entry] = [:]
        var firstLine: [String: Int] = [:]
        var users: [String] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = index + 1
            func invalid(_ what: String) -> LoadServerError {
                LoadServerError(.invalidArgument, "\(source):\(lineNumber): \(what)")
            }
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3 else {
                throw invalid("expected name:role:hash, found \(fields.count) colon-separated field\(fields.count == 1 ? "" : "s")")
            }
            let name = String(fields[0])
            let role = String(fields[1])
            if let problem = Self.problem(withUser: name) { throw invalid(problem) }
            guard Self.roles.contains(role) else {
                throw invalid("unknown role \"\(role.prefix(32))\" (expected curator or reader)")
            }
            if let first = firstLine[name] {
                throw invalid("duplicate user \"\(name)\" (first defined on line \(first))")
            }
            let hash: PasswordHash
            do {
                hash = try PasswordHash(encoded: String(fields[2]))
            } catch let error as LoadServerError {
                throw invalid("user \"\(name)\": \(error.message)")
            }
            entries[name] = Entry(role: role, hash: hash)
            firstLine[name] = lineNumber
            users.append(name)
        }
        self.entries = entries
        self.users = users
        let iterations = entries.values.map(\.hash.iterations).max() ?? PasswordHash.defaultIterations
        dummy = PasswordHash(iterations: iterations, salt: PasswordHash.randomBytes(PasswordHash.saltLength),
                             derivedKey: PasswordHash.randomBytes(PasswordHash.keyLength))
    }

    /// The role of `user` when `password` is theirs, else nil. An unknown user costs one
    /// verify as well, so the time taken does not tell which users exist.
    public func authenticate(user: String, password: String) -> String? {
        guard let entry = entries[user] else {
            _ = dummy.verify(password)
            return nil
        }
        return entry.hash.verify(password) ? entry.role : nil
    }

    /// The role of `user`, or nil when there is no such user (no password involved: for
    /// listings, never for access decisions).
    public func role(of user: String) -> String? { entries[user]?.role }

    /// A line for the credentials file: `user:role:` and a fresh hash of `password`.
    ///
    /// - Precondition: `user` and `role` are valid (check with ``problem(withUser:)`` and
    ///   ``roles``) and `iterations` is in ``PasswordHash/iterationRange``.
    public static func line(user: String, role: String, password: String,
                            iterations: Int = PasswordHash.defaultIterations) -> String {
        precondition(problem(withUser: user) == nil, problem(withUser: user) ?? "")
        precondition(roles.contains(role), "unknown role \"\(role)\" (expected curator or reader)")
        return "\(user):\(role):\(PasswordHash.make(password: password, iterations: iterations).encoded)"
    }

    /// Why `user` cannot be a user name, or nil when it can.
    public static func problem(withUser user: String) -> String? {
        if user.isEmpty { return "empty user name" }
        let allowed = user.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": true
            default: false
            }
        }
        guard allowed else {
            return "user name \"\(user.prefix(maximumUserLength))\" may contain only letters A-Z and a-z, digits, '.', '_' and '-'"
        }
        if user.count > maximumUserLength {
            return "user name \"\(user.prefix(16))…\" is \(user.count) characters long (at most \(maximumUserLength))"
        }
        return nil
    }
}
