import ArgumentParser
public import Curation
public import Foundation
public import Logging
public import WrapperCore
import AppDriver
import SystemSupport
import RPCContract

/// One run of a curation program: its configuration, logging, the archive's layout, read-only
/// queries, and (when it writes) the write lease and its steps. ``run(program:cuID:options:_:)``
/// wraps a CU's work with what every CU does: one clear line and a non-zero exit on failure, the
/// summary line at the end, the lease always given back, alerts flushed.
public final class CUContext: Sendable {
    public let program: String
    public let cuID: Int
    public let options: CUOptions
    public let config: WSAConfig
    public let layout: ArchiveLayout
    public let logger: Logger
    public let query: QueryHandler
    public let progress: ProgressBar
    /// The run a `resume` asked this process to make good (WSA_RESUME_OF).
    public let resumeOf: Int?
    /// What the run learns as it goes, behind a lock.
    struct RunState {
        var productsSwept = false
        /// Input files a product CU set aside in this run.
        var setAside: Set<String> = []
        var handler: DbHandler?
        var stepsSucceeded = 0
    }
    let state = Locked(RunState())

    init(program: String, cuID: Int, options: CUOptions, config: WSAConfig, logger: Logger, query: QueryHandler) {
        self.program = program
        self.cuID = cuID
        self.options = options
        self.config = config
        self.layout = ArchiveLayout(config: config)
        self.logger = logger
        self.query = query
        self.progress = ProgressBar(unit: "files", quiet: options.quiet)
        self.resumeOf = ProcessInfo.processInfo.environment["WSA_RESUME_OF"].flatMap(Int.init)
    }

    /// Runs a CU: `body` does the work and returns the summary line, printed on stdout at the
    /// end (not with `--quiet`). Any error is logged (and so mailed), printed as one line on
    /// stderr, and the process exits 1.
    public static func run(program: String, cuID: Int, options: CUOptions,
                           _ body: (CUContext) async throws -> String) async throws {
        let config: WSAConfig
        do {
            config = try WSAConfig.load(configFile: options.config)
        } catch {
            FileHandle.standardError.write(Data("\(program): error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let logging = try? WSALogging.bootstrap(program: program, config: config)
        let logger = Logger(label: "wsa.\(program)")
        var context: CUContext?
        do {
            let query = try QueryHandler(config: config)
            let ctx = CUContext(program: program, cuID: cuID, options: options, config: config, logger: logger, query: query)
            context = ctx
            _ = try ctx.programmes()  // an unknown --programme stops here, before anything is made
            if !options.dryRun {
                try ctx.prepareDirectories()
                try ctx.moveQuarantined()
                ctx.removeOrphanedScratch()
            }
            logger.info("\(program) \(WSAVersion.current) started: \(CommandLine.arguments.dropFirst().joined(separator: " "))")
            let summary = try await body(ctx)
            try await ctx.finishResume()
            await ctx.releaseLease()
            ctx.progress.finish()
            logger.info("\(summary)")
            if !options.quiet { print(summary) }
            query.close()
            _ = logging?.shutdown(timeout: 10)
        } catch let exit as ExitCode {
            await context?.releaseLease()
            context?.progress.finish()
            _ = logging?.shutdown(timeout: 10)
            throw exit
        } catch {
            await context?.releaseLease()
            context?.progress.finish()
            logger.error("\(program) failed: \(error)")
            _ = logging?.shutdown(timeout: 10)
            FileHandle.standardError.write(Data("\(program): error: \(error)\n".utf8))
            throw (error as? WrapperError)?.code == .alreadyRunning ? ExitCode(75) : ExitCode.failure
        }
    }

    private func prepareDirectories() throws {
        for dir in [layout.archive, layout.jpeg, layout.quarantine, layout.spool] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            } catch {
                throw WrapperError(.configuration, "cannot create or write \(dir.path): \(error.localizedDescription)")
            }
            guard access(dir.path, W_OK) == 0 else {
                throw WrapperError(.configuration, "\(dir.path) is not writable")
            }
        }
    }

    // MARK: Programmes

    /// The programmes this run works on: those named by `--programme`, else every programme.
    public func programmes() throws -> [ProgrammeInfo] {
        let all = try query.programmeInfo()
        guard !options.programmes.isEmpty else { return all }
        return try options.programmes.map { name in
            guard let p = all.first(where: { $0.name.uppercased() == name.uppercased() || $0.dfsIDString == name }) else {
                throw ValidationError("unknown programme '\(name)' (known: \(all.map(\.name).joined(separator: ", ")))")
            }
            return p
        }
    }

    // MARK: Lease and steps

    /// The database writer, holding the write lease (taken on first use, waiting up to
    /// `--lease-wait` for another holder).
    public func db() async throws -> DbHandler {
        if let existing = state.withLock({ $0.handler }) { return existing }
        let handler = try DbHandler(config: config, program: program)
        try await handler.writeLock(wait: .seconds(options.leaseWait))
        state.withLock { $0.handler = handler }
        return handler
    }

    private func releaseLease() async {
        guard let handler = state.withLock({ $0.handler }) else { return }
        try? await handler.writeUnlock()
        state.withLock { $0.handler = nil }
    }

    /// One atomic step of this CU for `programme`: `body`'s writes commit together with the
    /// success record, or not at all (the run is recorded failed with the error, and rethrown).
    @discardableResult
    public func step(programme: String?, _ body: (DbHandler, DbHandler.Step) async throws -> Void) async throws
        -> (loads: Int, rows: Int)
    {
        let db = try await db()
        let step = try await db.beginStep(cu: cuID, programme: programme)
        do {
            try await body(db, step)
        } catch {
            _ = try? await db.updateCurationLog(step, status: .failed, message: "\(error)")
            throw error
        }
        let outcome = try await db.updateCurationLog(step, status: .succeeded)
        state.withLock { $0.stepsSucceeded += 1 }
        return outcome
    }

    /// Runs another curation program installed beside this one, with this run's configuration
    /// in `arguments`; a failure is logged and told on stderr in one line. Returns whether it
    /// succeeded and its standard output (its summary line).
    public func runProgram(_ name: String, _ arguments: [String], environment: [String: String])
        async throws -> (succeeded: Bool, output: String)
    {
        let path = ProgramLocation.directory.appendingPathComponent(name).path
        let result = try await AppDriver(config: config).run(path, arguments: arguments, environment: environment)
        if !result.succeeded {
            let reason = result.failure.map { "\($0)" } ?? "failed"
            logger.error("\(name) \(arguments.joined(separator: " ")) failed: \(reason)")
            FileHandle.standardError.write(Data("\(program): \(name) failed: \(reason)\n".utf8))
        }
        return (result.succeeded, result.stdoutText)
    }

    /// A resumed run that found its work already done still records a step, so the failed run
    /// it stands for is marked made good.
    private func finishResume() async throws {
        guard resumeOf != nil, !options.dryRun, state.withLock({ $0.stepsSucceeded }) == 0 else { return }
        let programme = options.programmes.count == 1 ? options.programmes[0] : nil
        let db = try await db()
        let step = try await db.beginStep(cu: cuID, programme: programme)
        try await db.updateCurationLog(step, status: .succeeded, message: "resumed: nothing left to do")
    }

    /// A CU's work, programme by programme: `find` says what is waiting; with `--dry-run` each
    /// item is printed as `describe` says and nothing runs, otherwise the progress bar learns the
    /// total and `body` does the work. Returns how many items were waiting.
    @discardableResult
    public func forEachProgramme<T>(_ find: (ProgrammeInfo) throws -> [T], describe: (T) -> String,
                                    _ body: (ProgrammeInfo, [T]) async throws -> Void) async throws -> Int {
        var found = 0
        for programme in try programmes() {
            let pending = try find(programme)
            guard !pending.isEmpty else { continue }
            found += pending.count
            if options.dryRun {
                for item in pending { print("\(program): would \(describe(item))") }
                continue
            }
            progress.setTotal(pending.count)
            try await body(programme, pending)
        }
        return found
    }

    /// Runs `body` on each batch in turn with what `prepare` made of it; the next batch is
    /// prepared while `body` works on this one (reading files while the load server loads).
    public func pipelined<T: Sendable, P: Sendable>(_ batches: [T], prepare: @escaping @Sendable (T) async -> P,
                                                    _ body: (T, P) async throws -> Void) async throws {
        guard let first = batches.first else { return }
        var next: Task<P, Never>? = Task { await prepare(first) }
        defer { next?.cancel() }
        for (i, batch) in batches.enumerated() {
            let prepared = await next!.value
            next = i + 1 < batches.count ? Task { [following = batches[i + 1]] in await prepare(following) } : nil
            try await body(batch, prepared)
        }
    }

    /// `items` in consecutive batches of at most `size` (at least 1): one atomic step each.
    /// With `rampUp`, the first batch is a fifth of `size`, for ``pipelined(_:prepare:_:)``:
    /// nothing overlaps the preparation of the first batch, so the first step starts sooner.
    public static func batches<T>(_ items: [T], of size: Int, rampUp: Bool = false) -> [[T]] {
        let size = max(1, size)
        let first = rampUp ? min(items.count, max(1, size / 5)) : 0
        return (first > 0 ? [Array(items[..<first])] : [])
            + stride(from: first, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    /// Removes the scratch directories of this program's runs that were killed (their process
    /// is gone) before they could remove them.
    func removeOrphanedScratch() {
        let fm = FileManager.default
        let prefix = "wsa-\(program)-"
        guard let entries = try? fm.contentsOfDirectory(atPath: fm.temporaryDirectory.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? fm.removeItem(at: fm.temporaryDirectory.appendingPathComponent(entry))
            logger.info("removed \(entry) in \(fm.temporaryDirectory.path): left by a run that was killed")
        }
    }

    /// Runs `body` with a scratch directory of this process, removed afterwards.
    public func withScratchDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wsa-\(program)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try await body(dir)
    }

    // MARK: Bad input

    /// Reports a bad file: one ERROR line naming it and the problem (mailed to the admins).
    public func reportBadFile(_ error: any Error, file: String) {
        let line = (error as? WrapperError)?.line(naming: file) ?? "\(file): \(error)"
        logger.error("\(line)")
    }

    /// A quarantine record for an archived file found bad by this CU.
    public func quarantineRecord(_ transfer: ArchivedTransfer, reason: any Error) -> QuarantineRecord {
        QuarantineRecord(fileName: transfer.fileName, movedTo: layout.quarantinePath(for: transfer.fileName).path,
                         reason: Self.problem(reason), sourcePath: transfer.sourcePath, checksum: transfer.checksum,
                         cuID: Int16(cuID), programmeID: transfer.programmeID)
    }

    /// Whether `error` is a problem of the input file (``WrapperError/isBadInput``).
    public static func isBadInput(_ error: any Error) -> Bool { (error as? WrapperError)?.isBadInput == true }

    /// Whether `error` spoils one product only (``WrapperError/isProductProblem``).
    public static func isProductProblem(_ error: any Error) -> Bool { (error as? WrapperError)?.isProductProblem == true }

    /// The problem of an error, without the file name it carries.
    public static func problem(_ error: any Error) -> String {
        (error as? WrapperError)?.problem ?? "\(error)"
    }

    /// Moves quarantined archive files to their quarantine place, once the step that recorded
    /// them has committed. Without `records`: every file Quarantine names that is still in the
    /// archive (what a killed run did not get to move; done once at start). Returns how many moved.
    @discardableResult
    public func moveQuarantined(_ records: [QuarantineRecord]? = nil) throws -> Int {
        let entries = try records.map { $0.map { ($0.fileName, $0.movedTo) } } ?? query.quarantinedFiles()
        var moved = 0
        let fm = FileManager.default
        for (fileName, movedTo) in entries where layout.isArchived(fileName) && fm.fileExists(atPath: fileName) {
            let target = URL(fileURLWithPath: movedTo)
            try? fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if fm.fileExists(atPath: target.path) { try? fm.removeItem(at: target) }
            do {
                try fm.moveItem(atPath: fileName, toPath: target.path)
                moved += 1
                logger.info("moved \(fileName) to \(target.path)")
            } catch {
                logger.warning("could not move quarantined \(fileName) to \(target.path): \(error.localizedDescription)")
            }
        }
        return moved
    }
}
