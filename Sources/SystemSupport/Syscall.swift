#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: which call, on what, and errno (swift-nio's `IOError` shape).
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call, e.g. `rename` or `fsync`.
    public var call: String
    /// The path (or other object) it was made on, when there is one.
    public var path: String?
    public var errno: Int32

    public init(call: String, path: String?, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// strerror's text for errno.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        path.map { "\(call) \($0): \(reason)" } ?? "\(call): \(reason)"
    }
}

/// The one errno funnel: runs `body` (a system call returning -1 on failure) again while it
/// fails with EINTR, and turns any other failure into a ``SystemCallError`` naming the call.
///
/// ```swift
/// let fd = try syscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
/// ```
@inline(__always)
@discardableResult
public func syscall<T: FixedWidthInteger>(_ call: String, path: String? = nil,
                                          _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: call, path: path, errno: code)
    }
}

/// Like ``syscall(_:path:_:)`` for calls that return their error number instead of setting
/// errno (`posix_spawn`, `pthread_*`): 0 is success, EINTR is retried.
@inline(__always)
public func syscallReturningError(_ call: String, path: String? = nil,
                                  _ body: () -> Int32) throws(SystemCallError) {
    while true {
        let code = body()
        if code == 0 { return }
        if code == EINTR { continue }
        throw SystemCallError(call: call, path: path, errno: code)
    }
}

/// Writes all of `bytes` to `fd`, going on after short writes and EINTR.
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String? = nil) throws(SystemCallError) {
    guard var base = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
        let n = try syscall("write", path: path) { write(fd, base, left) }
        base += n
        left -= n
    }
}
