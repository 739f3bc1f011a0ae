import Foundation

/// Keeps the last `limit` bytes of a stream and counts all of it.
struct OutputTail {
    let limit: Int
    private var bytes = Data()
    private(set) var total = 0

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        total += chunk.count
        guard limit > 0 else { return }
        if chunk.count >= limit {
            bytes = Data(bytes: base + (chunk.count - limit), count: limit)
            return
        }
        bytes.append(base.assumingMemoryBound(to: UInt8.self), count: chunk.count)
        // Trim only once twice the limit has built up, so trimming costs O(1) per byte.
        if bytes.count > 2 * limit { trim() }
    }

    /// The kept bytes, at most `limit` of them.
    var data: Data {
        var copy = self
        copy.trim()
        return copy.bytes
    }

    private mutating func trim() {
        guard bytes.count > limit else { return }
        bytes.removeSubrange(bytes.startIndex..<(bytes.endIndex - limit))
    }
}
