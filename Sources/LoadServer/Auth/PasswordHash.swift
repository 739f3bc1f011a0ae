import Foundation
import Postgres
import TransactionFormat
import RPCContract

/// A salted, slow password hash: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2, HMAC per RFC 2104) over
/// our own ``SHA256``.
///
/// Stored as one line of text that carries everything needed to verify it:
///
/// ```
/// pbkdf2-sha256$210000$<salt, standard base64>$<32-byte derived key, standard base64>
/// ```
///
/// ```swift
/// let hash = PasswordHash.make(password: "s3cret")       // random 16-byte salt
/// let stored = hash.encoded                                // write this to the users file
/// try PasswordHash(encoded: stored).verify("s3cret")       // true
/// ```
///
/// The default of 210 000 iterations is OWASP's 2023 figure for PBKDF2-HMAC-SHA256; one verify
/// then costs a noticeable fraction of a second, which is the point.
public struct PasswordHash: Sendable, Hashable {
    /// The scheme tag that starts every encoded hash.
    public static let scheme = "pbkdf2-sha256"
    /// The iteration counts accepted when making or reading a hash.
    public static let iterationRange = 1...10_000_000
    /// The default iteration count for new hashes.
    public static let defaultIterations = 210_000
    /// The length in bytes of the derived key (one SHA-256 output).
    public static let keyLength = 32
    /// The length in bytes of a salt made by ``make(password:iterations:salt:)``.
    public static let saltLength = 16
    /// The longest salt accepted in an encoded hash, in bytes.
    static let maximumSaltLength = 1024

    /// The PBKDF2 iteration count.
    public let iterations: Int
    /// The salt.
    public let salt: [UInt8]
    /// The derived key (32 bytes).
    let derivedKey: [UInt8]

    init(iterations: Int, salt: [UInt8], derivedKey: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.derivedKey = derivedKey
    }

    /// Hashes `password` (its UTF-8 bytes) with `iterations` rounds and `salt` (a fresh random
    /// 16-byte salt when nil).
    ///
    /// - Precondition: `iterations` is in ``iterationRange`` and `salt`, when given, is not
    ///   empty and at most 1024 bytes.
    public static func make(password: String, iterations: Int = defaultIterations,
                            salt: [UInt8]? = nil) -> PasswordHash {
        precondition(iterationRange.contains(iterations),
                     "PBKDF2 iterations must be between 1 and 10000000, not \(iterations)")
        let salt = salt ?? randomBytes(saltLength)
        precondition(!salt.isEmpty && salt.count <= maximumSaltLength,
                     "a PBKDF2 salt must be 1 to \(maximumSaltLength) bytes")
        let key = pbkdf2(password: Array(password.utf8), salt: salt, iterations: iterations,
                         length: keyLength)
        return PasswordHash(iterations: iterations, salt: salt, derivedKey: key)
    }

    /// Reads an encoded hash (``encoded``).
    ///
    /// - Throws: ``LoadServerError`` (``LoadServerError/Code/invalidArgument``) saying what is
    ///   wrong and what form is expected. The message never repeats the hash itself.
    public init(encoded: String) throws {
        let form = "expected \(Self.scheme)$<iterations>$<salt base64>$<key base64>"
        func invalid(_ what: String) -> LoadServerError {
            LoadServerError(.invalidArgument, "malformed password hash: \(what) (\(form))")
        }
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw invalid("\(fields.count) $-separated field\(fields.count == 1 ? "" : "s") instead of 4")
        }
        guard fields[0] == Self.scheme else {
            throw invalid("unknown scheme \"\(fields[0].prefix(32))\"")
        }
        guard fields[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              fields[1].utf8.count <= 9, let iterations = Int(fields[1]),
              Self.iterationRange.contains(iterations)
        else {
            throw invalid("the iteration count must be a whole number from 1 to 10000000")
        }
        guard let salt = Self.base64Decode(fields[2]), !salt.isEmpty,
              salt.count <= Self.maximumSaltLength
        else {
            throw invalid("the salt is not 1 to \(Self.maximumSaltLength) bytes of standard base64 (with = padding)")
        }
        guard let key = Self.base64Decode(fields[3]), key.count == Self.keyLength else {
            throw invalid("the key is not \(Self.keyLength) bytes of standard base64 (with = padding)")
        }
        self.init(iterations: iterations, salt: salt, derivedKey: key)
    }

    /// The stored form, `pbkdf2-sha256$<iterations>$<salt base64>$<key base64>`.
    public var encoded: String {
        "\(Self.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derivedKey).base64EncodedString())"
    }

    /// True when `password` hashes to this hash. The derived keys are compared in constant
    /// time; the cost is dominated by the ``iterations`` and does not depend on the password.
    public func verify(_ password: String) -> Bool {
        let candidate = Self.pbkdf2(password: Array(password.utf8), salt: salt,
                                    iterations: iterations, length: derivedKey.count)
        return Self.constantTimeEqual(candidate, derivedKey)
    }

    // MARK: - Primitives (internal for tests)

    /// HMAC-SHA256 (RFC 2104) of `message` under `key`.
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = HMACState(key: key)
        return mac.authenticate(message)
    }

    /// PBKDF2 (RFC 8018 §5.2) with HMAC-SHA256 as the pseudo-random function: `length` bytes
    /// derived from `password` and `salt` with `iterations` rounds.
    static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        precondition(iterations >= 1, "PBKDF2 needs at least one iteration")
        precondition(length >= 1, "PBKDF2 needs a positive key length")
        // The padded key states are absorbed once; every HMAC below starts from copies.
        let prf = HMACState(key: password)
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var blockIndex: UInt32 = 1
        while output.count < length {
            var first = salt
            first.append(contentsOf: [UInt8(truncatingIfNeeded: blockIndex >> 24),
                                      UInt8(truncatingIfNeeded: blockIndex >> 16),
                                      UInt8(truncatingIfNeeded: blockIndex >> 8),
                                      UInt8(truncatingIfNeeded: blockIndex)])
            var mac = prf
            var u = mac.authenticate(first)
            var t = u
            if iterations > 1 {
                for _ in 2...iterations {
                    mac = prf
                    u = mac.authenticate(u)
                    for i in 0..<t.count { t[i] ^= u[i] }
                }
            }
            output.append(contentsOf: t.prefix(length - output.count))
            blockIndex += 1
        }
        return output
    }

    /// True when `a` and `b` are equal, in time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// `count` bytes from the system's secure random source.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Strict standard base64 (RFC 4648 §4, with padding): nil unless `text` is exactly the
    /// canonical encoding of the bytes it decodes to.
    static func base64Decode(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, let data = Data(base64Encoded: String(text)) else { return nil }
        guard data.base64EncodedString() == text else { return nil }
        return [UInt8](data)
    }
}

/// HMAC-SHA256 with the key's inner and outer padded blocks already absorbed (RFC 2104 §2),
/// so that repeated MACs under one key (PBKDF2) skip two compressions each.
private struct HMACState {
    private static let blockSize = 64
    private var inner: SHA256
    private var outer: SHA256

    init(key: [UInt8]) {
        var block = key.count > Self.blockSize ? SHA256.hash(key).bytes : key
        block.append(contentsOf: repeatElement(0, count: Self.blockSize - block.count))
        inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
    }

    /// The MAC of `message`; the state is used up (start each MAC from a fresh copy).
    mutating func authenticate(_ message: [UInt8]) -> [UInt8] {
        inner.update(message)
        outer.update(inner.finalize().bytes)
        return outer.finalize().bytes
    }
}
