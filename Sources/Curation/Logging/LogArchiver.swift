import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compresses rotated log files with gzip on a background queue, so rotation never makes the
/// logging caller wait for compression.
///
/// A file being compressed is held under an exclusive `flock`, so two processes never
/// compress the same file. If gzip fails the uncompressed archive stays (nothing is lost) and
/// is compressed again at the next start.
final class LogArchiver: Sendable {
    private let gzip: String
    private let queue = DispatchQueue(label: "wsa.log.archive")
    private let group = DispatchGroup()
    private let diagnostics: @Sendable (String) -> Void

    init(gzip: String, diagnostics: @escaping @Sendable (String) -> Void) {
        self.gzip = gzip
        self.diagnostics = diagnostics
    }

    /// Compresses `path` to `path.gz` in the background.
    func archive(_ path: String) {
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            compress(path)
        }
    }

    /// Waits until every requested compression has finished; false on timeout.
    func wait(timeout: Double) -> Bool {
        group.wait(timeout: .now() + max(0, timeout)) == .success
    }

    private func compress(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // compressed by another process meanwhile
        defer { _ = Sys.close(fd) }
        guard POSIXFile.lock(fd, LOCK_EX | LOCK_NB) else { return }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_nlink > 0 else { return }
        guard let executable = Self.resolve(gzip) else {
            diagnostics("cannot compress \(path): \(gzip) not found (install the gzip package)")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-f", "-n", "--", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            diagnostics("cannot compress \(path): \(error)")
            return
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 || process.terminationReason != .exit {
            let text = String(decoding: message, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            diagnostics("gzip \(path) failed (status \(process.terminationStatus)): \(text)")
        }
    }

    /// An absolute path, or the first match on `PATH`.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") {
            return FileManager.default.isExecutableFile(atPath: program) ? program : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
