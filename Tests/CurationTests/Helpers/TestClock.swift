import Foundation

/// A settable clock for time-dependent logic: no sleeping in tests.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    private let step: TimeInterval

    /// Starts at `iso` (`2025-03-01T23:59:00Z`); each reading advances by `step` seconds.
    init(_ iso: String, step: TimeInterval = 0) {
        self.date = TestClock.parse(iso)
        self.step = step
    }

    static func parse(_ iso: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: iso)!
    }

    func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        let current = date
        date = date.addingTimeInterval(step)
        return current
    }

    func set(_ iso: String) {
        lock.lock()
        date = TestClock.parse(iso)
        lock.unlock()
    }

    /// The clock as the closure the code under test takes.
    var function: @Sendable () -> Date { { [self] in self.now() } }
}
