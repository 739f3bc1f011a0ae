public import ArgumentParser
import Foundation
import AppDriver
public import WrapperCore
import TransactionFormat
import SystemSupport
import Curation
import Logging

/// The option of the CUs that run an external tool on image products.
public struct ToolOptions: ParsableArguments, Sendable {
    @Option(help: "Seconds one run of the external tool (one detector, or a whole mosaic) may take before it is stopped.")
    public var toolTimeout: Double = 3600

    public var timeout: Duration { .seconds(toolTimeout) }

    public init() {}
}

/// What a product CU made and what it could not.
public struct ProductTally: Sendable {
    public var done = 0
    public var failed: [String] = []
    /// Input files found bad while making a product, set aside (Quarantine) so the products
    /// are made without them.
    public var setAside = 0

    public init() {}

    /// Fails the run (after the other products were made) when any product could not be made:
    /// one line with the count and the first problem.
    public func check(program: String, noun: String) throws {
        guard let first = failed.first else { return }
        let aside = setAside > 0 ? ", \(setAside) bad input file(s) set aside" : ""
        throw WrapperError(.failed, tool: program, "\(failed.count) \(noun) could not be made (\(done) made\(aside)): \(first)")
    }
}

extension CUContext {
    /// Renames the committed products a killed run left as `NAME.part` (not with `--dry-run`).
    public func finishCommittedProducts() throws {
        if !options.dryRun { try sweepProductFiles(removeUncommitted: false) }
    }

    /// Makes the products `find` reports for each programme, one by one with `make`. An input
    /// file found bad while making one (it cannot be read, its pixels do not decompress) is set
    /// aside in Quarantine, and the programme's products are found again without it: one bad
    /// frame costs its products another try, not the run. Returns the products found.
    public func makeProducts<T>(_ find: (ProgrammeInfo) throws -> [T], describe: @escaping (T) -> String,
                                inputs: @escaping (T) -> [ProductInput], into tally: inout ProductTally,
                                _ make: (ProgrammeInfo, T) async throws -> Void) async throws -> Int {
        try finishCommittedProducts()
        var counts = tally
        let found = try await forEachProgramme(find, describe: describe) { programme, pending in
            var pending = pending
            while true {  // ends: each further pass follows a file set aside, and files are finite
                let before = counts.setAside
                try await forEachProduct(pending, into: &counts, describe: describe,
                                         badInputs: { try await self.setAsideBadInputs(inputs($0), programme: programme) }) {
                    try await make(programme, $0)
                }
                guard counts.setAside > before else { break }
                pending = try find(programme).filter { item in !counts.failed.contains { $0.hasPrefix(describe(item) + ": ") } }
                guard !pending.isEmpty else { break }
                progress.setTotal(pending.count)
            }
        }
        tally = counts
        return found
    }

    /// Makes `pending` products one by one with `body`. The first call takes the write lease and
    /// removes what killed runs left unfinished. A product's own problem (a bad input, the tool
    /// failing on it) is logged and counted, and the others go on; anything else stops the run.
    /// With `badInputs`, a product that failed on bad input has its inputs checked one by one
    /// (the closure returns how many it set aside); when none is at fault the product failed.
    public func forEachProduct<T>(_ pending: [T], into tally: inout ProductTally, describe: (T) -> String,
                                  badInputs: ((T) async throws -> Int)? = nil, _ body: (T) async throws -> Void) async throws {
        if !state.withLock({ $0.productsSwept }) {
            _ = try await db()  // holding the lease, no other run is writing products
            try sweepProductFiles(removeUncommitted: true)
            state.withLock { $0.productsSwept = true }
        }
        for item in pending {
            do {
                try await body(item)
                tally.done += 1
            } catch let error as WrapperError where error.isBadInput && badInputs != nil {
                let setAside = try await badInputs!(item)
                tally.setAside += setAside
                if setAside == 0 {  // no input is at fault on its own: the product's own problem
                    logger.error("\(program): \(describe(item)) failed: \(error.line(naming: describe(item)))")
                    tally.failed.append("\(describe(item)): \(error)")
                }
            } catch where Self.isProductProblem(error) {
                logger.error("\(program): \(describe(item)) failed: \(error)")
                tally.failed.append("\(describe(item)): \(error)")
            }
            progress.advance()
        }
    }

    /// Checks each of `inputs` on its own (``StackInput/verify(scratch:)``) and sets aside
    /// those that fail: a Quarantine row naming the file at fault and why (the file stays where
    /// Multiframe names it, so `movedTo` is NONE). Returns how many it set aside in this run.
    func setAsideBadInputs(_ inputs: [ProductInput], programme: ProgrammeInfo) async throws -> Int {
        var records: [QuarantineRecord] = []
        try await withScratchDirectory { scratch in
            for input in inputs {
                do {
                    try input.stackInput().verify(scratch: scratch, pointing: (input.raBase, input.decBase))
                } catch let error as WrapperError where error.isBadInput {
                    let file = error.file ?? input.fileName
                    guard state.withLock({ $0.setAside.insert(file).inserted }) else { continue }
                    logger.error("\(program): \(error.line(naming: file)); set aside, the products are made without it")
                    records.append(QuarantineRecord(fileName: file, movedTo: WSANull.text, reason: error.problem,
                                                    cuID: Int16(cuID), programmeID: programme.programmeID))
                }
            }
        }
        guard !records.isEmpty else { return 0 }
        try await step(programme: programme.name) { db, step in try await db.logQuarantine(records, in: step) }
        return records.count
    }
}
