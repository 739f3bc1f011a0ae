public import Foundation

/// Runs `work` on every item on `jobs` OS threads (never on Swift's cooperative pool, which the
/// blocking FITS and file work would starve) and returns the outcomes in the items' order.
public func parallelMap<T: Sendable, R: Sendable>(_ items: [T], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                                                  _ work: @escaping @Sendable (T) throws -> R) async -> [Result<R, any Error>] {
    guard !items.isEmpty else { return [] }
    let results = ResultSlots<R>(count: items.count)
    let workers = max(1, min(jobs, items.count))
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let thread = Thread {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while let index = results.claim() {
                    results.set(index, Result { try work(items[index]) })
                }
            }
            continuation.resume()
        }
        thread.name = "parallelMap"
        thread.start()
    }
    return results.values
}

/// The outcomes of a parallelMap and the next item to claim.
private final class ResultSlots<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<R, any Error>?]
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.withLock {
            guard next < slots.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func set(_ index: Int, _ value: Result<R, any Error>) { lock.withLock { slots[index] = value } }

    var values: [Result<R, any Error>] { lock.withLock { slots.map { $0! } } }
}
