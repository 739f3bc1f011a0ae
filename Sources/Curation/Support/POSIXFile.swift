import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small wrappers over POSIX file calls; every failure becomes a `CurationError`.
enum POSIXFile {
    /// Writes all of `bytes` to `fd` (``SystemSupport/writeAll(_:_:path:)``: short writes and
    /// EINTR go on).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String,
                         code: CurationError.Code) throws
    {
        do {
            try SystemSupport.writeAll(fd, bytes, path: path)
        } catch {
            throw CurationError(code, "cannot write \(path): \(error.reason)")
        }
    }

    /// Writes all of `data` to `fd`.
    static func writeAll(_ fd: Int32, _ data: [UInt8], path: String,
                         code: CurationError.Code) throws
    {
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path, code: code) }
    }

    /// Creates `path` and its parents (mode 0750) if missing.
    static func makeDirectory(_ path: String, code: CurationError.Code) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw CurationError(code, "\(path) exists and is not a directory")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o750])
        } catch {
            throw CurationError(code, "cannot create directory \(path)",
                                detail: "\(error)")
        }
    }

    /// fsyncs a directory so a rename inside it is durable.
    static func syncDirectory(_ path: String) { AtomicFile.syncDirectory(path) }

    /// The (device, inode) identity of an open file, or nil.
    static func identity(fd: Int32) -> (UInt64, UInt64)? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// The (device, inode) identity of a path, or nil if it does not exist.
    static func identity(path: String) -> (UInt64, UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Takes an flock on `fd`, retrying EINTR. Returns false if `nonBlocking` and it is held.
    @discardableResult
    static func lock(_ fd: Int32, _ operation: Int32) -> Bool {
        (try? syscall("flock") { flock(fd, operation) }) != nil
    }
}

/// POSIX calls whose names clash with methods (`close`, `connect`, `send`), by module.
enum Sys {
    static func close(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(fd)
        #else
        Darwin.close(fd)
        #endif
    }

    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.connect(fd, address, length)
        #else
        Darwin.connect(fd, address, length)
        #endif
    }

    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, bytes, count, flags)
        #else
        Darwin.send(fd, bytes, count, flags)
        #endif
    }
}
