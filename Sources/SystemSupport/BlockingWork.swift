public import Foundation

/// The one way blocking work (cfitsio, file copies, encoders) is spread over the cores: ``concurrentMap``
/// on the calling thread and `jobs − 1` more, or, from async code, ``parallelMap``, which does
/// the same on a thread of its own (never on Swift's cooperative pool, which the blocking work
/// would starve). Items are claimed one at a time, so uneven items balance; outcomes come back
/// in the items' order.

/// Runs `work` on every item on up to `jobs` threads, blocking the caller until all are done.
public func concurrentMap<T, R>(_ items: [T], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                                _ work: (T) throws -> R) -> [Result<R, any Error>] {
    guard !items.isEmpty else { return [] }
    let results = ResultSlots<R>(count: items.count)
    withoutActuallyEscaping(work) { work in
        let unchecked = UncheckedWork(work: work, items: items)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, items.count))) { _ in
            while let index = results.claim() {
                results.set(index, Result { try unchecked.work(unchecked.items[index]) })
            }
        }
    }
    return results.values
}

/// Runs `work` on every item on `jobs` OS threads, off Swift's cooperative pool, and returns the
/// outcomes in the items' order (``concurrentMap`` on a thread of its own).
public func parallelMap<T: Sendable, R: Sendable>(_ items: [T], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                                                  _ work: @escaping @Sendable (T) throws -> R) async -> [Result<R, any Error>] {
    guard !items.isEmpty else { return [] }
    return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<R, any Error>], Never>) in
        let thread = Thread { continuation.resume(returning: concurrentMap(items, jobs: jobs, work)) }
        thread.name = "parallelMap"
        thread.start()
    }
}

/// The work and items of a ``concurrentMap``, shared by its threads for the length of the call
/// (the caller blocks until they are done, so nothing outlives it).
private struct UncheckedWork<T, R>: @unchecked Sendable {
    let work: (T) throws -> R
    let items: [T]
}

/// The outcomes of a parallelMap and the next item to claim.
private final class ResultSlots<R>: @unchecked Sendable {  // slots guarded by `lock`
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
