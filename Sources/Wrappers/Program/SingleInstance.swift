public import Foundation
import AppDriver

/// An exclusive lock on a file (flock), held while the process lives: a second instance is
/// refused with the pid of the first.
public final class SingleInstance: @unchecked Sendable {
    private let fd: Int32

    /// Takes the lock on `path` or throws, naming the process that holds it.
    public init(path: URL, program: String) throws {
        try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WrapperError(.configuration, "cannot open the lock file \(path.path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOf: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw WrapperError(.alreadyRunning, "another \(program) is running (\(holder.isEmpty ? "?" : holder)); this one stops")
        }
        ftruncate(fd, 0)
        let line = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        self.fd = fd
    }

    /// Gives the lock back (also done when the process ends).
    public func release() { flock(fd, LOCK_UN) }

    deinit { close(fd) }
}
