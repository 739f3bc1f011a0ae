import Testing
import Wrappers

/// How a CU's work is cut into atomic steps.
struct StepBatchTests {
    @Test func batchesKeepEveryItemOnceInOrder() {
        let items = Array(1...23)
        #expect(CUContext.batches(items, of: 10).map(\.count) == [10, 10, 3])
        #expect(CUContext.batches(items, of: 0).count == 23)
        // Ramped: the first batch a fifth of the others, so the first step starts sooner.
        let ramped = CUContext.batches(items, of: 10, rampUp: true)
        #expect(ramped.map(\.count) == [2, 10, 10, 1])
        #expect(ramped.flatMap { $0 } == items)
        #expect(CUContext.batches([Int](), of: 10, rampUp: true).isEmpty)
        #expect(CUContext.batches([7], of: 25, rampUp: true) == [[7]])
        #expect(CUContext.batches(items, of: 3, rampUp: true).first == [1])
    }
}
