public import ArgumentParser
import Foundation
import AppDriver
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

    public init() {}

    /// Fails the run (after the other products were made) when any product could not be made:
    /// one line with the count and the first problem.
    public func check(program: String, noun: String) throws {
        guard let first = failed.first else { return }
        throw WrapperError(.failed, tool: program, "\(failed.count) \(noun) could not be made (\(done) made): \(first)")
    }
}

extension CUContext {
    /// Renames the committed products a killed run left as `NAME.part` (not with `--dry-run`).
    public func finishCommittedProducts() throws {
        if !options.dryRun { try sweepProductFiles(removeUncommitted: false) }
    }

    /// Makes `pending` products one by one with `body`. The first call takes the write lease and
    /// removes what killed runs left unfinished. A product's own problem (a bad input, the tool
    /// failing on it) is logged and counted, and the others go on; anything else stops the run.
    public func forEachProduct<T>(_ pending: [T], into tally: inout ProductTally, describe: (T) -> String,
                                  _ body: (T) async throws -> Void) async throws {
        if !state.withLock({ $0.productsSwept }) {
            _ = try await db()  // holding the lease, no other run is writing products
            try sweepProductFiles(removeUncommitted: true)
            state.withLock { $0.productsSwept = true }
        }
        for item in pending {
            do {
                try await body(item)
                tally.done += 1
            } catch where Self.isProductProblem(error) {
                logger.error("\(program): \(describe(item)) failed: \(error)")
                tally.failed.append("\(error)")
            }
            progress.advance()
        }
    }
}
