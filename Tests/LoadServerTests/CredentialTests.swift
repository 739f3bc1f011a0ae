import Foundation
import Testing
import RPCContract
@testable import LoadServer

/// Password hashing, the credentials file and HTTP Basic credentials (no database).
@Suite("Credentials")
struct CredentialTests {
    // MARK: - Helpers

    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func basic(_ raw: String) -> String { "Basic " + Data(raw.utf8).base64EncodedString() }

    /// A few iterations keep the tests fast; the format does not depend on the count.
    static let fast = 1000

    /// The message of the `LoadServerError` that `body` throws.
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as LoadServerError {
            #expect(error.code == .invalidArgument)
            return error.message
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    // MARK: - HMAC-SHA256 (RFC 4231)

    @Test("HMAC-SHA256, RFC 4231 test case 1")
    func hmacCase1() {
        let mac = PasswordHash.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20),
                                          message: bytes("Hi There"))
        #expect(hex(mac) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test("HMAC-SHA256, RFC 4231 test case 2 (key shorter than the output)")
    func hmacCase2() {
        let mac = PasswordHash.hmacSHA256(key: bytes("Jefe"),
                                          message: bytes("what do ya want for nothing?"))
        #expect(hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("HMAC-SHA256, RFC 4231 test case 6 (key longer than a block is hashed first)")
    func hmacCase6() {
        let mac = PasswordHash.hmacSHA256(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: bytes("Test Using Larger Than Block-Size Key - Hash Key First"))
        #expect(hex(mac) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    // MARK: - PBKDF2-HMAC-SHA256

    @Test("PBKDF2-HMAC-SHA256 known vectors", arguments: [
        (1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
        (2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
        (4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
    ])
    func pbkdf2Vectors(iterations: Int, expected: String) {
        let key = PasswordHash.pbkdf2(password: bytes("password"), salt: bytes("salt"),
                                      iterations: iterations, length: 32)
        #expect(hex(key) == expected)
    }

    @Test("PBKDF2-HMAC-SHA256 over two blocks (dkLen 40)")
    func pbkdf2TwoBlocks() {
        let key = PasswordHash.pbkdf2(password: bytes("passwordPASSWORDpassword"),
                                      salt: bytes("saltSALTsaltSALTsaltSALTsaltSALTsalt"),
                                      iterations: 4096, length: 40)
        #expect(hex(key) == "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9")
    }

    // MARK: - PasswordHash

    @Test("make, encode, decode and verify: the right password passes, others fail")
    func roundTrip() throws {
        let hash = PasswordHash.make(password: "correct horse ☃", iterations: Self.fast)
        #expect(hash.salt.count == 16)
        let encoded = hash.encoded
        let parts = encoded.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2-sha256")
        #expect(parts[1] == "\(Self.fast)")
        #expect(Data(base64Encoded: String(parts[3]))?.count == 32)

        let decoded = try PasswordHash(encoded: encoded)
        #expect(decoded == hash)
        #expect(decoded.encoded == encoded)
        #expect(decoded.verify("correct horse ☃"))
        #expect(!decoded.verify("correct horse"))
        #expect(!decoded.verify("correct horse ☃ "))
        #expect(!decoded.verify(""))
    }

    @Test("a given salt is used as is; fresh salts differ")
    func salts() throws {
        let salt: [UInt8] = Array(0..<16)
        let a = PasswordHash.make(password: "pw", iterations: 2, salt: salt)
        let b = PasswordHash.make(password: "pw", iterations: 2, salt: salt)
        #expect(a == b)
        #expect(a.salt == salt)
        #expect(a.encoded.hasPrefix("pbkdf2-sha256$2$AAECAwQFBgcICQoLDA0ODw==$"))
        let c = PasswordHash.make(password: "pw", iterations: 2)
        let d = PasswordHash.make(password: "pw", iterations: 2)
        #expect(c.salt != d.salt)
        #expect(c.verify("pw") && d.verify("pw"))
    }

    /// One full-cost hash (a few seconds in a debug build); verify is covered above.
    @Test("the default iteration count is 210000")
    func defaultIterations() throws {
        let hash = PasswordHash.make(password: "pw")
        #expect(hash.iterations == 210_000)
        #expect(hash.encoded.hasPrefix("pbkdf2-sha256$210000$"))
        #expect(try PasswordHash(encoded: hash.encoded) == hash)
    }

    @Test("malformed encodings are refused with a message naming the expected form", arguments: [
        ("", "1 $-separated field instead of 4"),
        ("pbkdf2-sha256$1000$AAECAw==", "3 $-separated fields instead of 4"),
        ("pbkdf2-sha256$1000$AAECAw==$\(String(repeating: "A", count: 43))=$x", "5 $-separated fields"),
        ("bcrypt$1000$AAECAw==$\(String(repeating: "A", count: 43))=", "unknown scheme \"bcrypt\""),
        ("pbkdf2-sha256$0$AAECAw==$\(String(repeating: "A", count: 43))=", "iteration count"),
        ("pbkdf2-sha256$10000001$AAECAw==$\(String(repeating: "A", count: 43))=", "iteration count"),
        ("pbkdf2-sha256$-5$AAECAw==$\(String(repeating: "A", count: 43))=", "iteration count"),
        ("pbkdf2-sha256$+5$AAECAw==$\(String(repeating: "A", count: 43))=", "iteration count"),
        ("pbkdf2-sha256$$AAECAw==$\(String(repeating: "A", count: 43))=", "iteration count"),
        ("pbkdf2-sha256$1000$$\(String(repeating: "A", count: 43))=", "the salt"),
        ("pbkdf2-sha256$1000$AAEC*w==$\(String(repeating: "A", count: 43))=", "the salt"),
        ("pbkdf2-sha256$1000$AAECAw$\(String(repeating: "A", count: 43))=", "the salt"),
        ("pbkdf2-sha256$1000$AAECAw==$AAECAw==", "the key is not 32 bytes"),
        ("pbkdf2-sha256$1000$AAECAw==$\(String(repeating: "A", count: 43))", "the key is not 32 bytes"),
    ])
    func malformed(encoded: String, expected: String) {
        let text = message { _ = try PasswordHash(encoded: encoded) }
        #expect(text?.contains(expected) == true, "\(text ?? "no error")")
        #expect(text?.contains("expected pbkdf2-sha256$<iterations>$<salt base64>$<key base64>") == true)
    }

    @Test("verify compares in constant time over the key: equal-length check only")
    func constantTimeEqual() {
        #expect(PasswordHash.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHash.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHash.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(PasswordHash.constantTimeEqual([], []))
    }

    // MARK: - CredentialStore

    @Test("a good file: comments, blank lines, CRLF; authenticate gives the role or nil")
    func goodFile() throws {
        let text = """
            # dbrpcserver users

            \(CredentialStore.line(user: "alice", role: "curator", password: "a-secret", iterations: Self.fast))\r
              # an indented comment
            \(CredentialStore.line(user: "bob.smith_2-x", role: "reader", password: "pa:ss", iterations: Self.fast))
            """
        let store = try CredentialStore(text: text, source: "users.txt")
        #expect(store.users == ["alice", "bob.smith_2-x"])
        #expect(store.authenticate(user: "alice", password: "a-secret") == "curator")
        #expect(store.authenticate(user: "bob.smith_2-x", password: "pa:ss") == "reader")
        #expect(store.authenticate(user: "alice", password: "pa:ss") == nil)
        #expect(store.authenticate(user: "Alice", password: "a-secret") == nil)
        #expect(store.authenticate(user: "carol", password: "a-secret") == nil)
        #expect(store.role(of: "bob.smith_2-x") == "reader")
    }

    @Test("an empty file has no users and refuses everyone")
    func emptyFile() throws {
        let store = try CredentialStore(text: "# nobody yet\n\n", source: "users.txt")
        #expect(store.users.isEmpty)
        #expect(store.authenticate(user: "alice", password: "x") == nil)
    }

    @Test("a file read from disk is named by its path in errors")
    func fromDisk() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("credential-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("users.txt").path
        let good = CredentialStore.line(user: "alice", role: "reader", password: "pw", iterations: 10)
        try (good + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let store = try CredentialStore(contentsOf: path)
        #expect(store.authenticate(user: "alice", password: "pw") == "reader")

        try (good + "\nbob:admin:x\n").write(toFile: path, atomically: true, encoding: .utf8)
        let text = message { _ = try CredentialStore(contentsOf: path) }
        #expect(text?.hasPrefix("\(path):2: unknown role \"admin\"") == true, "\(text ?? "no error")")

        let missing = message { _ = try CredentialStore(contentsOf: path + ".missing") }
        #expect(missing?.contains("cannot read the credentials file \(path).missing") == true,
                "\(missing ?? "no error")")
    }

    static let goodHash = PasswordHash.make(password: "pw", iterations: 1, salt: Array(0..<16)).encoded

    @Test("each kind of bad line is refused with the file and line number", arguments: [
        ("alice", "users.txt:3: expected name:role:hash, found 1 colon-separated field"),
        ("alice:curator", "users.txt:3: expected name:role:hash, found 2 colon-separated fields"),
        ("alice:curator:\(goodHash):extra", "users.txt:3: expected name:role:hash, found 4"),
        (":curator:\(goodHash)", "users.txt:3: empty user name"),
        ("al ice:curator:\(goodHash)", "users.txt:3: user name \"al ice\" may contain only"),
        ("alïce:curator:\(goodHash)", "users.txt:3: user name \"alïce\" may contain only"),
        ("\(String(repeating: "a", count: 65)):curator:\(goodHash)", "users.txt:3: user name \"aaaaaaaaaaaaaaaa…\" is 65 characters long (at most 64)"),
        ("alice:admin:\(goodHash)", "users.txt:3: unknown role \"admin\" (expected curator or reader)"),
        ("alice:Curator:\(goodHash)", "users.txt:3: unknown role \"Curator\""),
        ("alice::\(goodHash)", "users.txt:3: unknown role \"\""),
        ("alice:reader:plaintext", "users.txt:3: user \"alice\": malformed password hash: 1 $-separated field instead of 4"),
        ("alice:reader:", "users.txt:3: user \"alice\": malformed password hash"),
    ])
    func badLine(line: String, expected: String) {
        let text = "# users\nbob:reader:\(Self.goodHash)\n\(line)\n"
        let error = message { _ = try CredentialStore(text: text, source: "users.txt") }
        #expect(error?.hasPrefix(expected) == true, "\(error ?? "no error")")
    }

    @Test("a 64-character name is accepted")
    func longestName() throws {
        let name = String(repeating: "z", count: 64)
        let store = try CredentialStore(text: "\(name):reader:\(Self.goodHash)", source: "users.txt")
        #expect(store.users == [name])
        #expect(store.authenticate(user: name, password: "pw") == "reader")
    }

    @Test("a user defined twice is refused, naming both lines")
    func duplicateUser() {
        let text = """
            alice:curator:\(Self.goodHash)
            bob:reader:\(Self.goodHash)

            alice:reader:\(Self.goodHash)
            """
        let error = message { _ = try CredentialStore(text: text, source: "users.txt") }
        #expect(error == "users.txt:4: duplicate user \"alice\" (first defined on line 1)")
    }

    @Test("the error for a bad hash does not repeat the hash")
    func noHashInErrors() {
        let secretish = "pbkdf2-sha256$1000$QUJDREVGR0g=$c2VjcmV0"
        let error = message { _ = try CredentialStore(text: "alice:reader:\(secretish)", source: "u") }
        #expect(error != nil)
        #expect(error?.contains("c2VjcmV0") == false)
        #expect(error?.contains("QUJDREVGR0g") == false)
    }

    // MARK: - BasicCredentials

    @Test("Basic credentials parse; the scheme is case-insensitive")
    func basicGood() {
        #expect(BasicCredentials(authorizationHeader: "Basic YWxpY2U6czNjcmV0")
            == BasicCredentials(user: "alice", password: "s3cret"))
        #expect(BasicCredentials(authorizationHeader: "basic YWxpY2U6czNjcmV0")?.user == "alice")
        #expect(BasicCredentials(authorizationHeader: "BASIC   YWxpY2U6czNjcmV0 ")?.password == "s3cret")
        #expect(BasicCredentials(authorizationHeader: basic("alice:")) == BasicCredentials(user: "alice", password: ""))
        #expect(BasicCredentials(authorizationHeader: basic("jöns:pässwörd☃"))
            == BasicCredentials(user: "jöns", password: "pässwörd☃"))
    }

    @Test("a password may contain colons; the user name ends at the first one")
    func basicColons() {
        let credentials = BasicCredentials(authorizationHeader: basic("bob:a:b::c:"))
        #expect(credentials == BasicCredentials(user: "bob", password: "a:b::c:"))
    }

    @Test("bad headers are refused", arguments: [
        "",
        "Basic",
        "Basic ",
        "Basic YWxpY2U6czNjcmV0!",            // not base64
        "Basic YWxpY2U6c*NjcmV0",              // not base64
        "Basic YWxpY2U",                       // truncated base64
        "Bearer YWxpY2U6czNjcmV0",             // another scheme
        "Digest username=\"alice\"",
        "BasicYWxpY2U6czNjcmV0",               // no space after the scheme
        "Basic YWxpY2U=",                      // "alice": no colon
        "Basic OnNlY3JldA==",                  // ":secret": empty user name
        "Basic " + Data([0x61, 0x3a, 0xff, 0xfe]).base64EncodedString(),  // not UTF-8
        "Basic " + Data("a:b\u{0}c".utf8).base64EncodedString(),          // control character
        "Basic " + String(repeating: "A", count: 5000),                   // over-long
    ])
    func basicBad(header: String) {
        #expect(BasicCredentials(authorizationHeader: header) == nil)
    }
}
