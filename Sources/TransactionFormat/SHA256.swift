import Crypto
public import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 (FIPS 180-4), streaming: file and migration checksums. The work is done by
/// swift-crypto (BoringSSL, with the CPU's SHA instructions where it has them).
///
/// ```swift
/// var hash = SHA256()
/// hash.update(chunk1); hash.update(chunk2)
/// let hex = hash.finalize().hexString
/// ```
public struct SHA256: @unchecked Sendable {
    /// A value type (copy-on-write over BoringSSL's context), so a copy may go to another thread;
    /// swift-crypto 3 does not declare it Sendable.
    private var hasher = Crypto.SHA256()

    public init() {}

    /// The digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        var h = SHA256()
        h.update(Array(bytes))
        return h.finalize()
    }

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// Finishes the hash.
    public mutating func finalize() -> Digest {
        Digest(bytes: Array(hasher.finalize()))
    }

    /// A 32-byte SHA-256 digest.
    public struct Digest: Sendable, Hashable, CustomStringConvertible {
        public let bytes: [UInt8]
        /// Lower-case hexadecimal, 64 characters.
        public var hexString: String {
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(64)
            for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
            return String(decoding: out, as: UTF8.self)
        }
        public var description: String { hexString }
    }
}

extension SHA256 {
    /// The SHA-256 of the file at `path` (hex), read in 1 MiB chunks.
    public static func hexDigest(ofFile path: String) throws(SystemCallError) -> String {
        let fd = try syscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var hasher = SHA256()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try syscall("read", path: path) { read(fd, buffer.baseAddress, chunk) }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finalize().hexString
    }
}
