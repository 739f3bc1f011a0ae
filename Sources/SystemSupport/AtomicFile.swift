#if canImport(Glibc)
public import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// The one way a file reaches its final name: written under a temporary name beside it, made
/// durable (fsync), renamed over the final name (atomic on one file system), and the directory
/// synced so the rename survives a crash. A reader sees the old file or the whole new one, never
/// a part.
///
/// ```swift
/// try AtomicFile.write(bytes, to: "/archive/jpeg/frame_1.jpg")
/// // or, for files written by a library (cfitsio, libjpeg):
/// let temporary = AtomicFile.temporaryPath(for: final)
/// try writeWithTheLibrary(to: temporary)
/// try AtomicFile.commit(temporary, to: final)
/// ```
public enum AtomicFile {
    /// A hidden, unique temporary path in the same directory as `path`
    /// (`dir/.name.tmp-<pid>-<n>`), so the final rename never crosses a file system.
    public static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Whether `name` (a file name, not a path) is one of ``temporaryPath(for:)``'s names.
    public static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(".tmp-")
    }

    /// Writes `bytes` to `path` atomically (mode `permissions`).
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String,
                             permissions: mode_t = 0o644) throws(SystemCallError) {
        try write(to: path, permissions: permissions) { fd throws(SystemCallError) in
            try writeAll(fd, bytes, path: path)
        }
    }

    /// Writes `bytes` to `path` atomically (mode `permissions`).
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) { try write(raw, to: path, permissions: permissions) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Opens a temporary file beside `path`, lets `body` write it through its descriptor, then
    /// commits it to `path`. On any failure the temporary file is removed and nothing is at
    /// `path` that was not there before.
    public static func write(to path: String, permissions: mode_t = 0o644,
                             _ body: (Int32) throws(SystemCallError) -> Void) throws(SystemCallError) {
        let temporary = temporaryPath(for: path)
        let fd = try syscall("open", path: temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        }
        do {
            try body(fd)
            try syscall("fsync", path: temporary) { fsync(fd) }
            try syscall("close", path: temporary) { close(fd) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        try commit(temporary, to: path, alreadySynced: true)
    }

    /// Writes `bytes` durably under a temporary name beside `path` and returns that name, for
    /// several files committed together (``commit(_:)``).
    public static func writeTemporary(_ bytes: [UInt8], beside path: String,
                                      permissions: mode_t = 0o644) throws(SystemCallError) -> String {
        let temporary = temporaryPath(for: path)
        let fd = try syscall("open", path: temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        }
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) {
                try writeAll(fd, raw, path: temporary)
                try syscall("fsync", path: temporary) { fsync(fd) }
            } catch {
                failure = error
            }
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        return temporary
    }

    /// Renames every synced temporary file to its final path, then syncs their directories. If
    /// one rename fails, the temporaries left and the files already renamed are removed: all
    /// the files appear, or none.
    public static func commit(_ files: [(temporary: String, path: String)]) throws(SystemCallError) {
        var renamed: [String] = []
        for (index, file) in files.enumerated() {
            do {
                try syscall("rename", path: file.path) { rename(file.temporary, file.path) }
                renamed.append(file.path)
            } catch {
                for rest in files[index...] { unlink(rest.temporary) }
                for path in renamed { unlink(path) }
                throw error
            }
        }
        for directory in Set(files.map { directoryOf($0.path) }) { syncDirectory(directory) }
    }

    /// Makes `temporary` durable (unless `alreadySynced`), renames it to `path` and syncs the
    /// directory. On failure `temporary` is removed.
    public static func commit(_ temporary: String, to path: String, alreadySynced: Bool = false) throws(SystemCallError) {
        do {
            if !alreadySynced { try sync(temporary) }
            try syscall("rename", path: path) { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
        syncDirectory(containing: path)
    }

    /// Renames `source` to `path` (same file system) and syncs both directories: for files
    /// already durable under another name (a verified copy, a product whose rows committed).
    public static func move(_ source: String, to path: String) throws(SystemCallError) {
        try syscall("rename", path: path) { rename(source, path) }
        syncDirectory(containing: path)
        syncDirectory(containing: source)
    }

    /// fsyncs the file at `path`.
    public static func sync(_ path: String) throws(SystemCallError) {
        let fd = try syscall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try syscall("fsync", path: path) { fsync(fd) }
    }

    /// fsyncs the directory holding `path`, so a rename in it is durable. Best effort: a file
    /// system that cannot sync directories is not an error.
    public static func syncDirectory(containing path: String) {
        syncDirectory(directoryOf(path))
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// fsyncs a directory (best effort).
    public static func syncDirectory(_ directory: String) {
        guard let fd = try? syscall("open", path: directory, { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) else {
            return
        }
        _ = fsync(fd)
        close(fd)
    }
}
