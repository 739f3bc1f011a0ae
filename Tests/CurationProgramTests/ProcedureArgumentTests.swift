import Testing
import Wrappers

/// A curation program imports `Wrappers` only: the arguments of `DbHandler.callProcedure` must
/// be nameable, cases and all, with that one import (this file imports nothing else).
@Suite("Wrappers re-exports ProcedureArgument")
struct ProcedureArgumentTests {
    @Test("a CU names ProcedureArgument and its cases with only `import Wrappers`")
    func visible() {
        let ids: [Int64] = [1, 5_000_000_000]
        let arguments: [ProcedureArgument] = [.int(8), .double(0.5), .text("LAS"), .intArray(ids)]
        #expect(arguments.map(\.sqlType) == ["bigint", "double precision", "text", "bigint[]"])
        let call: (DbHandler) -> (String, [ProcedureArgument], DbHandler.Step) async throws(WrapperError) -> Int64 =
            DbHandler.callProcedure
        _ = call
    }
}
