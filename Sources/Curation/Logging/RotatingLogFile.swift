public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// A program's log file, rotated daily (UTC).
///
/// At each write the injected clock is read; when the UTC day has changed the current file is
/// renamed to `<file>.YYYY-MM-DD` (the day it covers, from its first line) and compressed to
/// `….gz` on a background queue, and a new file is started. A file left by an earlier run on
/// an earlier day is rotated the same way when the log is opened.
///
/// Thread-safe: a lock serialises writers in the process. Several processes of one program may
/// share the file: writes hold a shared `flock` on `.<file>.lock` and reopen the path if
/// another process rotated it; rotation holds the exclusive lock, so no line is written into a
/// file after it was renamed.
public final class RotatingLogFile: @unchecked Sendable {
    /// The log directory.
    public let directory: String
    /// The current file's name (`cu4.log`).
    public let fileName: String
    /// The current file's path.
    public var path: String { "\(directory)/\(fileName)" }

    private let clock: @Sendable () -> Date
    /// Days the compressed archives are kept (0: for ever).
    public let keepDays: Int
    private let archiver: LogArchiver
    private let lock = NSLock()
    private var fd: Int32 = -1
    private var lockFD: Int32 = -1
    private var fileDay = Int.min

    /// Opens (creating the directory and file as needed) and rotates a stale file.
    ///
    /// - Parameters:
    ///   - clock: The time source; tests inject one to cross midnight without waiting.
    ///   - gzip: The gzip program (path, or name looked up on `PATH`).
    ///   - diagnostics: Told about compression problems.
    /// - Throws: ``CurationError`` `.logFile` naming the directory or file.
    public init(directory: String, fileName: String,
                clock: @escaping @Sendable () -> Date = { Date() },
                keepDays: Int = 0,
                gzip: String = "/bin/gzip",
                diagnostics: @escaping @Sendable (String) -> Void = { _ in })
        throws
    {
        self.directory = directory
        self.fileName = fileName
        self.clock = clock
        self.keepDays = keepDays
        self.archiver = LogArchiver(gzip: gzip, diagnostics: diagnostics)
        try POSIXFile.makeDirectory(directory, code: .logFile)
        let lockPath = "\(directory)/.\(fileName).lock"
        lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard lockFD >= 0 else { throw CurationError.posix(.logFile, "open", lockPath) }
        lock.lock()
        defer { lock.unlock() }
        try rotateIfNeeded(today: UTCTime.dayNumber(clock()))
        for leftover in leftoverArchives() { archiver.archive(leftover) }
    }

    deinit {
        if fd >= 0 { _ = Sys.close(fd) }
        if lockFD >= 0 { _ = Sys.close(lockFD) }
    }

    /// Appends one line. `line` is called with the time read from the clock under the lock, so
    /// lines appear in timestamp order and each lands in the file of its own day.
    ///
    /// - Throws: ``CurationError`` `.logFile`; a failed rotation is reported after the line was
    ///   written to the current file.
    public func write(_ line: (Date) -> String) throws {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        let today = UTCTime.dayNumber(now)
        var rotationError: (any Error)? = nil
        if today > fileDay {
            do {
                try rotateIfNeeded(today: today)
            } catch {
                fileDay = today  // do not retry at every line; try again tomorrow
                rotationError = error
            }
        }
        let bytes = Array(line(now).utf8)
        POSIXFile.lock(lockFD, LOCK_SH)
        defer { POSIXFile.lock(lockFD, LOCK_UN) }
        let mine = fd >= 0 ? POSIXFile.identity(fd: fd) : nil
        let current = POSIXFile.identity(path: path)
        if let mine, let current, mine == current {
            // still the file at `path`
        } else {
            try reopen()  // another process rotated (or someone removed) the file
        }
        try POSIXFile.writeAll(fd, bytes, path: path, code: .logFile)
        if let rotationError { throw rotationError }
    }

    /// Waits until archived files are compressed; false on timeout.
    @discardableResult
    public func waitForArchiving(timeout: Double) -> Bool {
        archiver.wait(timeout: timeout)
    }

    /// The archive path for `day` (`<file>.YYYY-MM-DD`), or `.1`, `.2` … if taken.
    func archivePath(day: Int) -> String {
        let base = "\(path).\(UTCTime.dayString(day))"
        var candidate = base
        var counter = 0
        let fm = FileManager.default
        while fm.fileExists(atPath: candidate) || fm.fileExists(atPath: candidate + ".gz") {
            counter += 1
            candidate = "\(base).\(counter)"
        }
        return candidate
    }

    // MARK: - Under `lock`

    /// Under the exclusive file lock: if the file at `path` was started before `today`,
    /// renames it to its archive name and has it compressed; then opens the current file.
    private func rotateIfNeeded(today: Int) throws {
        POSIXFile.lock(lockFD, LOCK_EX)
        defer { POSIXFile.lock(lockFD, LOCK_UN) }
        var archived: String? = nil
        if let startDay = Self.startDay(path), startDay < today {
            let target = archivePath(day: startDay)
            guard rename(path, target) == 0 else {
                throw CurationError.posix(.logFile, "rename", "\(path) to \(target)")
            }
            archived = target
        }
        try reopen()
        fileDay = today
        if let archived { archiver.archive(archived) }
        pruneArchives(today: today)
    }

    /// Removes the compressed archives (`<file>.YYYY-MM-DD[.N].gz`) of days more than
    /// ``keepDays`` before `today`.
    func pruneArchives(today: Int) {
        guard keepDays > 0 else { return }
        let prefix = fileName + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(".gz") {
            guard let day = UTCTime.dayNumber(parsing: name.dropFirst(prefix.count).prefix(10)),
                  day < today - keepDays else { continue }
            unlink("\(directory)/\(name)")
        }
    }

    private func reopen() throws {
        if fd >= 0 { _ = Sys.close(fd) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw CurationError.posix(.logFile, "open", path) }
    }

    /// Archives left uncompressed by an interrupted run (`<file>.YYYY-MM-DD[.N]`).
    private func leftoverArchives() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let prefix = fileName + "."
        return names.filter { name in
            guard name.hasPrefix(prefix), !name.hasSuffix(".gz") else { return false }
            let rest = name.dropFirst(prefix.count)
            guard UTCTime.dayNumber(parsing: rest) != nil else { return false }
            let suffix = rest.dropFirst(10)
            return suffix.isEmpty || (suffix.first == "." && suffix.dropFirst().allSatisfy(\.isNumber)
                && suffix.count > 1)
        }.sorted().map { "\(directory)/\($0)" }
    }

    /// The UTC day the file at `path` was started: the timestamp of its first line (the
    /// file's modification time if that is unreadable), or nil if there is no file or it is
    /// empty. The first line, not the last: another process whose clock lags a little may
    /// append a line stamped yesterday to a file started today, and that must not make the
    /// file look stale.
    static func startDay(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Sys.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 10)
        if pread(fd, &buffer, 10, 0) == 10,
           let day = UTCTime.dayNumber(parsing: Substring(String(decoding: buffer, as: UTF8.self)))
        {
            return day
        }
        #if canImport(Glibc)
        let modified = Double(st.st_mtim.tv_sec)
        #else
        let modified = Double(st.st_mtimespec.tv_sec)
        #endif
        return UTCTime.dayNumber(Date(timeIntervalSince1970: modified))
    }
}
