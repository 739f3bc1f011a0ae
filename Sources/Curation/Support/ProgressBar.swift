import Foundation

/// A one-line progress bar on stderr, shown only when stderr is a terminal (and not asked to be
/// quiet): done/total, the unit, elapsed time and an estimate of what is left.
public final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let unit: String
    private let lock = NSLock()
    private let start = Date()
    private var shown = false
    private var done = 0
    private var total = 0

    /// A bar counting `unit` (e.g. "frames"); `quiet` or a stderr that is not a terminal hides it.
    public init(unit: String, quiet: Bool = false) {
        self.unit = unit
        self.enabled = !quiet && isatty(STDERR_FILENO) != 0
    }

    /// Shows `done` of `total`.
    public func update(_ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        self.done = done
        self.total = total
        draw()
    }

    /// Adds `n` to the work done (of the last total) and redraws.
    public func advance(_ n: Int = 1) {
        lock.lock(); defer { lock.unlock() }
        done += n
        draw()
    }

    /// Sets the total without changing the work done.
    public func setTotal(_ total: Int) {
        lock.lock(); defer { lock.unlock() }
        self.total = total
        draw()
    }

    private func draw() {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(max(0, total - done)) : 0
        let line = String(format: "\r[%@%@] %d/%d %@  %.0f s elapsed, ~%.0f s left ",
                          String(repeating: "#", count: filled), String(repeating: ".", count: width - filled),
                          done, total, unit, elapsed, eta)
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    /// Ends the bar's line (call before printing anything else).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
        shown = false
    }
}
