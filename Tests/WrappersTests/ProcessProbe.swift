import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Looks at other processes from a test.
enum ProcessProbe {
    /// True when `pid` no longer runs: no such process, or a zombie waiting for a reaper
    /// (this container's init may never reap the orphans it inherits).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
        return state.hasPrefix("Z") || state.hasPrefix("X")
    }

    /// Waits up to `limit` for `pid` to be gone; true if it went.
    static func waitUntilGone(_ pid: pid_t, within limit: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if isGone(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isGone(pid)
    }

    /// Waits up to `limit` for a file holding a pid to appear and be complete (generous: other
    /// suites simulating their nights can keep the test process's task pool busy for a minute).
    static func readPID(_ path: String, within limit: Duration = .seconds(300)) async -> pid_t? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n"),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return pid
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Runs `body` on a new thread that has `blocked` signals in its mask (as a worker
    /// thread of a runtime may), and returns its value.
    static func onThread<T: Sendable>(blocking blocked: [Int32],
                                      _ body: @escaping @Sendable () -> T) async -> T
    {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                var set = sigset_t()
                sigemptyset(&set)
                for signal in blocked { sigaddset(&set, signal) }
                pthread_sigmask(SIG_BLOCK, &set, nil)
                continuation.resume(returning: body())
            }
            thread.start()
        }
    }
}

/// A temporary directory removed when the test is done with it.
final class Scratch {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = try TestEnvironment.temporaryDirectory("appdriver")
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes an executable shell script.
    @discardableResult
    func script(_ name: String, _ body: String) throws -> String {
        let path = file(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
