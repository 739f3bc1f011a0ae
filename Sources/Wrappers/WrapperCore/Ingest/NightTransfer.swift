import Foundation
public import Logging
import SystemSupport
import TransactionFormat
import AppDriver

/// CU1's rules for one ready delivery night (seed 004 §7 CU1): fetch the candidate files in
/// parallel into the staging area, decide what each is (a duplicate, a new file, a new version of
/// a known name, or bad input), move it to its archive place, and return the TransferLog and
/// Quarantine rows to record, one batch per programme with the night's marker last.
///
/// ```swift
/// let transfer = NightTransfer(area: area, layout: layout, query: query, programmes: all, wanted: ids)
/// for batch in try await transfer.transfer(survey).batches {
///     try await step(batch.programme) { db, step in try await db.logTransfers(batch, in: step) }
/// }
/// ```
public struct NightTransfer: Sendable {
    public let area: any DeliveryArea
    public let layout: ArchiveLayout
    public let query: QueryHandler
    /// Every programme the archive knows (to name the one a file's PROJECT gives).
    public let programmes: [ProgrammeInfo]
    /// The programmes this run transfers; files of others are left for their own run.
    public let wanted: Set<Int32>
    /// Transfers at once.
    public let jobs: Int
    let logger: Logger

    public init(area: any DeliveryArea, layout: ArchiveLayout, query: QueryHandler, programmes: [ProgrammeInfo],
                wanted: Set<Int32>, jobs: Int = 4, logger: Logger = Logger(label: "wsa.cu1")) {
        self.area = area
        self.layout = layout
        self.query = query
        self.programmes = programmes
        self.wanted = wanted
        self.jobs = max(1, jobs)
        self.logger = logger
    }

    /// Fetches, sorts and places the night's files; returns the batches to record (each one
    /// atomic step), programmes in name order and the batch with the marker last, so a night is
    /// logged as done only when everything before it has committed. `fetched` is called after
    /// each file arrives (for a progress bar).
    public func transfer(_ survey: NightSurvey, fetched: @Sendable () -> Void = {}) async throws -> NightTransferResult {
        let staging = layout.incoming.appendingPathComponent(survey.night, isDirectory: true)
        let copies = try await fetch(survey.candidates, into: staging, fetched: fetched)
        var batches: [String: TransferBatch] = [:]
        var last = TransferBatch(programme: nil)
        var duplicates = 0
        for (outcome, programme) in try sort(survey, copies) {
            if outcome == .duplicate {
                duplicates += 1
            } else if let programme {
                batches[programme, default: TransferBatch(programme: programme)].add(outcome)
            } else {
                last.add(outcome)
            }
        }
        if let marker = survey.marker { last.add(try placeMarker(marker, night: survey.night)) }
        var result = batches.keys.sorted().compactMap { batches[$0] }
        if !last.isEmpty { result.append(last) }
        return NightTransferResult(batches: result, duplicates: duplicates)
    }

    /// Fetches `files` with at most ``jobs`` transfers at once; each copy is verified by size and
    /// SHA-256 before it is renamed into `staging`.
    func fetch(_ files: [DeliveredFile], into staging: URL,
               fetched: @Sendable () -> Void) async throws -> [String: FetchedFile] {
        var copies: [String: FetchedFile] = [:]
        let area = self.area
        try await withThrowingTaskGroup(of: FetchedFile.self) { group in
            var queue = files[...]
            for _ in 0..<min(jobs, queue.count) {
                let file = queue.removeFirst()
                group.addTask { try await area.fetch(file, to: staging.appendingPathComponent(file.name)) }
            }
            while let done = try await group.next() {
                copies[done.file.name] = done
                fetched()
                if let file = queue.popFirst() {
                    group.addTask { try await area.fetch(file, to: staging.appendingPathComponent(file.name)) }
                }
            }
        }
        return copies
    }

    /// Decides, in delivery order, what each fetched file is and moves it to its place. Returns
    /// each outcome with its programme's name (nil when the programme is unknown).
    func sort(_ survey: NightSurvey, _ copies: [String: FetchedFile]) throws -> [(TransferOutcome, String?)] {
        let delivered = Set(survey.candidates.map(\.name))
        let images = survey.candidates.compactMap { CASUName.image(ofCatalogue: $0.name) }
        let known = try query.transfers(named: Array(delivered) + images)
        let quarantined = try query.quarantinedChecksums(copies.values.map(\.sha256))
        var outcomes: [(TransferOutcome, String?)] = []
        for file in survey.candidates {
            guard let copy = copies[file.name] else { continue }
            let versions = known.filter { $0.deliveredName == file.name }
            if versions.contains(where: { $0.checksum == copy.sha256 }) || quarantined.contains(copy.sha256) {
                try? FileManager.default.removeItem(at: copy.destination)
                outcomes.append((.duplicate, nil))
                continue
            }
            var programme: ProgrammeInfo?
            do {
                let type = CASUName.fileType(of: file.name)
                if type == .catalogue, let image = CASUName.image(ofCatalogue: file.name), !delivered.contains(image),
                   !known.contains(where: { $0.deliveredName == image && $0.deprecated == 0 }) {
                    throw WrapperError(.wrongContents, file: file.relativePath, "catalogue without its image \(image)")
                }
                programme = try self.programme(of: copy, label: file.relativePath)
                guard let programme, wanted.contains(programme.programmeID) else {
                    try? FileManager.default.removeItem(at: copy.destination)
                    continue
                }
                let version = (versions.map(\.version).max() ?? 0) + 1
                let target = archivePath(night: survey.night, name: file.name, version: version, taken: versions)
                try place(copy.destination, at: target)
                let record = TransferRecord(sourcePath: file.relativePath, deliveredName: file.name, fileName: target.path,
                                            fileType: type, programmeID: programme.programmeID, fileSize: copy.bytes,
                                            checksum: copy.sha256, version: version)
                outcomes.append((.transferred(record, supersedes: versions.first { $0.deprecated == 0 }?.transferID),
                                 programme.name))
            } catch let error as WrapperError where error.isBadInput {
                logger.error("\(error.line(naming: file.relativePath))")
                let target = layout.quarantinePath(for: file.relativePath)
                try place(copy.destination, at: target)
                outcomes.append((.quarantined(QuarantineRecord(
                    fileName: file.relativePath, movedTo: target.path, reason: error.problem, sourcePath: file.relativePath,
                    checksum: copy.sha256, cuID: 1, programmeID: programme?.programmeID ?? WSANull.int)), programme?.name))
            }
        }
        return outcomes
    }

    /// The programme a file's PROJECT names; bad input when the archive does not know it.
    func programme(of copy: FetchedFile, label: String) throws(WrapperError) -> ProgrammeInfo {
        let reader = try FitsReader(copy.destination.path)
        defer { reader.close() }
        let project = try reader.getProgramID()
        guard let programme = programmes.first(where: { $0.name == project }) else {
            throw WrapperError(.unknownProgramme, file: label,
                               "PROJECT names programme '\(project)', which the archive does not know "
                                   + "(known: \(programmes.map(\.name).joined(separator: ", ")))")
        }
        return programme
    }

    /// The night's COMPLETE marker, archived as a new version of `<night>/COMPLETE`.
    func placeMarker(_ marker: FetchedFile, night: String) throws -> TransferOutcome {
        let name = DeliveryPlanner.markerName(night: night)
        let versions = try query.transfers(named: [name])
        let version = (versions.map(\.version).max() ?? 0) + 1
        let target = archivePath(night: night, name: marker.file.name, version: version, taken: versions)
        try place(marker.destination, at: target)
        return .transferred(TransferRecord(sourcePath: marker.file.relativePath, deliveredName: name, fileName: target.path,
                                           fileType: .marker, programmeID: WSANull.int, fileSize: marker.bytes,
                                           checksum: marker.sha256, version: version),
                            supersedes: versions.first { $0.deprecated == 0 }?.transferID)
    }

    /// Where version `version` of a delivered file goes: `fits/<night>/<name>`, or
    /// `fits/<night>/v<N>/<name>` when an earlier version came in the same night directory.
    func archivePath(night: String, name: String, version: Int32, taken: [ArchivedTransfer]) -> URL {
        let plain = layout.fitsPath(night: night, name: name, version: 1)
        return taken.contains { $0.fileName == plain.path } ? layout.fitsPath(night: night, name: name, version: version) : plain
    }

    /// Moves a verified staged file to its place (same file system: a rename).
    func place(_ staged: URL, at target: URL) throws(WrapperError) {
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.move(staged.path, to: target.path)
        } catch {
            throw WrapperError(.writeFailed, file: target.path, "cannot move the fetched copy here: \(error)")
        }
    }
}

/// What a night's transfer gave: the batches to record, and how many files were already there.
public struct NightTransferResult: Sendable, Hashable {
    public var batches: [TransferBatch]
    public var duplicates: Int
}

/// What became of one fetched file.
public enum TransferOutcome: Sendable, Hashable {
    /// The same bytes are already in the archive (or were set aside before).
    case duplicate
    /// Archived; `supersedes` is the TransferLog row of the version it replaces.
    case transferred(TransferRecord, supersedes: Int64?)
    /// Bad input, set aside.
    case quarantined(QuarantineRecord)
}

/// The rows one atomic step of CU1 records: a programme's transfers, the versions they
/// supersede, and the files set aside.
public struct TransferBatch: Sendable, Hashable {
    /// The programme's name; nil for the night's own batch (its marker, files of no programme).
    public var programme: String?
    public var transfers: [TransferRecord] = []
    public var superseded: [Int64] = []
    public var quarantined: [QuarantineRecord] = []

    public init(programme: String?) { self.programme = programme }

    mutating func add(_ outcome: TransferOutcome) {
        switch outcome {
        case .duplicate:
            break
        case .transferred(let record, let old):
            transfers.append(record)
            if let old { superseded.append(old) }
        case .quarantined(let record):
            quarantined.append(record)
        }
    }

    var isEmpty: Bool { transfers.isEmpty && quarantined.isEmpty && superseded.isEmpty }

    /// Files transferred (the marker not counted).
    public var files: Int { transfers.filter { $0.fileType != .marker }.count }
    /// Of those, new versions of a known name.
    public var newVersions: Int { transfers.filter { $0.fileType != .marker && $0.version > 1 }.count }
}
