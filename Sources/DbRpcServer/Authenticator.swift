import Foundation
import LoadServer
import Postgres
import TransactionFormat

/// Checks HTTP Basic credentials against the users file (hashed secrets), reloading the file
/// when it changes. Verified credentials are remembered for a few minutes, by a hash of the
/// password, so that clients that authenticate every call (Python's xmlrpc.client does) do not
/// pay a full PBKDF2 each time.
final class Authenticator: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var store: CredentialStore
    private var modified: Date?
    private var checkedAt = Date.distantPast
    private var verified: [String: (role: String, until: Date)] = [:]
    static let rememberFor: TimeInterval = 300

    init(path: String) throws {
        self.path = path
        self.store = try CredentialStore(contentsOf: path)
        self.modified = Self.modificationDate(path)
    }

    var users: [String] { lock.withLock { store.users } }

    /// The caller's user name and role, or nil when the header is missing or wrong.
    func authenticate(authorization: String?) -> (user: String, role: String)? {
        guard let authorization, let credentials = BasicCredentials(authorizationHeader: authorization) else {
            return nil
        }
        reloadIfChanged()
        let key = credentials.user + "\u{0}" + SHA256.hash(Array(credentials.password.utf8)).hexString
        let now = Date()
        if let role = lock.withLock({ () -> String? in
            guard let entry = verified[key], entry.until > now else { return nil }
            return entry.role
        }) {
            return (credentials.user, role)
        }
        let current = lock.withLock { store }
        guard let role = current.authenticate(user: credentials.user, password: credentials.password) else {
            return nil
        }
        lock.withLock {
            if verified.count > 1000 { verified.removeAll() }
            verified[key] = (role, now.addingTimeInterval(Self.rememberFor))
        }
        return (credentials.user, role)
    }

    /// Looks at the file at most every two seconds, not on every call.
    private func reloadIfChanged() {
        let now = Date()
        guard lock.withLock({ () -> Bool in
            guard now.timeIntervalSince(checkedAt) >= 2 else { return false }
            checkedAt = now
            return true
        }) else { return }
        let date = Self.modificationDate(path)
        guard lock.withLock({ date != modified }) else { return }
        do {
            let fresh = try CredentialStore(contentsOf: path)
            lock.withLock {
                store = fresh
                modified = date
                verified.removeAll()
            }
        } catch {
            // Keep the users we have; the error shows at the next start.
        }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
