import ArgumentParser
import Foundation
import Wrappers
import CurationProgram
import AppDriver
import Logging
import Curation

/// CU1: obtain science data from CASU (seed 004 §7).
@main
struct CU1: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cu1",
        abstract: "Fetch the nights CASU delivered into the archive file system.",
        discussion: """
            Looks at the delivery area ([paths] delivery: a directory or an http(s) URL) for \
            night directories that are ready (their COMPLETE marker lists every file with its \
            size, or, without a marker, sizes stay the same over a few seconds). Each new file is \
            copied under a temporary name, its SHA-256 checked, and renamed into \
            [paths] archive/fits/<night>/; the same file again is skipped; the same name with new \
            content becomes a new version (under <night>/v<N>/) and the earlier one is deprecated. \
            The programme comes from PROJECT in the FITS header. Every transfer goes into \
            TransferLog in one atomic step per programme. A file that is not readable FITS, names \
            an unknown programme, or is a catalogue without its image is reported, set aside \
            under [paths] quarantine and recorded in Quarantine; the rest of the night goes on.
            Exit status: 0 done (bad files are counted in the summary), 1 failure, 64 bad usage.
            """,
        version: curationVersion)

    @OptionGroup var options: CUOptions

    @Option(help: "Transfers run at once.")
    var jobs = 4

    @Option(help: "Seconds a night without a COMPLETE marker must keep its sizes to count as ready.")
    var settle = 2.0

    @Flag(help: "Check every file of every ready night by checksum, even when its marker is unchanged.")
    var rehash = false

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1 to 64") }
    }

    func run() async throws {
        try await CUContext.run(program: "cu1", cuID: 1, options: options) { [jobs, settle, rehash] ctx in
            let area = try makeDeliveryArea(ctx.config.paths.delivery, settle: .milliseconds(Int(settle * 1000)))
            let programmes = try ctx.query.programmeInfo()
            let wanted = Set(try ctx.programmes().map(\.programmeID))
            var tally = Tally()
            let surveys: [NightSurvey]
            if ctx.options.dryRun {
                surveys = try await ctx.withScratchDirectory { scratch in
                    try await DeliveryPlanner(area: area, staging: scratch).survey(query: ctx.query, rehash: rehash)
                }
            } else {
                surveys = try await DeliveryPlanner(area: area, staging: ctx.layout.incoming).survey(query: ctx.query, rehash: rehash)
            }
            for survey in surveys {
                guard survey.ready else {
                    ctx.logger.info("night \(survey.night) is not ready: \(survey.reason)")
                    tally.notReady += 1
                    continue
                }
                guard !survey.unchanged else { continue }
                if ctx.options.dryRun {
                    for file in survey.candidates { print("cu1: would fetch \(file.relativePath) (\(file.size) bytes)") }
                    tally.transferred += survey.candidates.count
                    tally.nights += 1
                    continue
                }
                try await Self.transfer(survey, area: area, programmes: programmes, wanted: wanted, jobs: jobs,
                                        ctx: ctx, tally: &tally)
            }
            let verb = ctx.options.dryRun ? "would fetch" : "transferred"
            return "cu1: \(verb) \(tally.transferred) file(s) from \(tally.nights) night(s) (\(tally.programmes.count) programme(s)); "
                + "\(tally.duplicates) duplicate(s) skipped, \(tally.newVersions) new version(s), "
                + "\(tally.quarantined) bad file(s) quarantined, \(tally.notReady) night(s) not ready"
        }
    }

    struct Tally {
        var transferred = 0, nights = 0, duplicates = 0, newVersions = 0, quarantined = 0, notReady = 0
        var programmes: Set<String> = []
    }

    /// What became of one fetched file.
    enum Outcome {
        case duplicate
        case transfer(TransferRecord, supersedes: Int64?, programme: String)
        case bad(QuarantineRecord, programme: String?)
    }

    static func transfer(_ survey: NightSurvey, area: any DeliveryArea, programmes: [ProgrammeInfo], wanted: Set<Int32>,
                         jobs: Int, ctx: CUContext, tally: inout Tally) async throws {
        let night = survey.night
        let delivered = Set(survey.candidates.map(\.name))
        let images = survey.candidates.compactMap { imageName(ofCatalogue: $0.name) }
        let known = try ctx.query.transfers(named: Array(delivered) + images)
        let staging = ctx.layout.incoming.appendingPathComponent(night, isDirectory: true)
        ctx.progress.setTotal(survey.candidates.count)

        // Fetch in parallel, bounded; decide in delivery order.
        var fetched: [String: FetchedFile] = [:]
        try await withThrowingTaskGroup(of: FetchedFile.self) { group in
            var queue = survey.candidates[...]
            for _ in 0..<min(jobs, queue.count) {
                let file = queue.removeFirst()
                group.addTask { try await area.fetch(file, to: staging.appendingPathComponent(file.name)) }
            }
            while let done = try await group.next() {
                fetched[done.file.name] = done
                ctx.progress.advance()
                if let file = queue.popFirst() {
                    group.addTask { try await area.fetch(file, to: staging.appendingPathComponent(file.name)) }
                }
            }
        }

        let quarantined = try ctx.query.quarantinedChecksums(fetched.values.map(\.sha256))
        var outcomes: [Outcome] = []
        for file in survey.candidates {
            guard let copy = fetched[file.name] else { continue }
            let versions = known.filter { $0.deliveredName == file.name }
            if versions.contains(where: { $0.checksum == copy.sha256 }) || quarantined.contains(copy.sha256) {
                try? FileManager.default.removeItem(at: copy.destination)
                outcomes.append(.duplicate)
                continue
            }
            let hasImage: (String) -> Bool = { image in
                delivered.contains(image) || known.contains { $0.deliveredName == image && $0.deprecated == 0 }
            }
            var programmeName: String?
            do {
                let type = fileType(file.name)
                if type == "catalogue", let image = imageName(ofCatalogue: file.name), !hasImage(image) {
                    throw WrapperError(.wrongContents, file: file.relativePath, "catalogue without its image \(image)")
                }
                let reader = try FitsReader(copy.destination.path)
                let project = try reader.getProgramID()
                reader.close()
                guard let programme = programmes.first(where: { $0.name == project }) else {
                    throw WrapperError(.unknownProgramme, file: file.relativePath,
                                       "PROJECT names programme '\(project)', which the archive does not know "
                                       + "(known: \(programmes.map(\.name).joined(separator: ", ")))")
                }
                programmeName = programme.name
                guard wanted.contains(programme.programmeID) else {
                    try? FileManager.default.removeItem(at: copy.destination)
                    continue
                }
                let version = (versions.map(\.version).max() ?? 0) + 1
                let target = archivePath(night: night, name: file.name, version: version, taken: versions, ctx.layout)
                try place(copy.destination, at: target)
                let previous = versions.first { $0.deprecated == 0 }
                outcomes.append(.transfer(
                    TransferRecord(sourcePath: file.relativePath, deliveredName: file.name, fileName: target.path, fileType: type,
                                   programmeID: programme.programmeID, fileSize: copy.bytes, checksum: copy.sha256,
                                   version: version),
                    supersedes: previous?.transferID, programme: programme.name))
            } catch where CUContext.isBadInput(error) {
                ctx.reportBadFile(error, file: file.relativePath)
                let target = ctx.layout.quarantinePath(for: file.relativePath)
                try place(copy.destination, at: target)
                let programme = programmeName.flatMap { name in programmes.first { $0.name == name } }
                outcomes.append(.bad(QuarantineRecord(
                    fileName: file.relativePath, movedTo: target.path, reason: CUContext.problem(error),
                    sourcePath: file.relativePath, checksum: copy.sha256, cuID: 1,
                    programmeID: programme?.programmeID ?? -99_999_999), programme: programme?.name))
            }
        }

        // One step per programme; the marker last, once everything before it has committed.
        var byProgramme: [String?: [Outcome]] = [:]
        for outcome in outcomes {
            switch outcome {
            case .duplicate: tally.duplicates += 1
            case .transfer(_, _, let p): byProgramme[p, default: []].append(outcome)
            case .bad(_, let p): byProgramme[p, default: []].append(outcome)
            }
        }
        for programme in byProgramme.keys.compactMap({ $0 }).sorted() {
            try await record(byProgramme[programme] ?? [], programme: programme, ctx: ctx, tally: &tally)
            tally.programmes.insert(programme)
        }
        var last = byProgramme[nil] ?? []
        if let marker = survey.marker {
            let name = DeliveryPlanner.markerName(night: night)
            let versions = try ctx.query.transfers(named: [name])
            let version = (versions.map(\.version).max() ?? 0) + 1
            let target = archivePath(night: night, name: marker.file.name, version: version, taken: versions, ctx.layout)
            try place(marker.destination, at: target)
            last.append(.transfer(TransferRecord(sourcePath: marker.file.relativePath, deliveredName: name, fileName: target.path,
                                                 fileType: "marker", programmeID: -99_999_999, fileSize: marker.bytes,
                                                 checksum: marker.sha256, version: version),
                                  supersedes: versions.first { $0.deprecated == 0 }?.transferID, programme: ""))
        }
        if !last.isEmpty { try await record(last, programme: nil, ctx: ctx, tally: &tally) }
        tally.nights += 1
    }

    /// Records one programme's transfers, deprecations and quarantined files in one step.
    static func record(_ outcomes: [Outcome], programme: String?, ctx: CUContext, tally: inout Tally) async throws {
        var transfers: [TransferRecord] = [], superseded: [Int64] = [], bad: [QuarantineRecord] = []
        for outcome in outcomes {
            switch outcome {
            case .transfer(let record, let old, _):
                transfers.append(record)
                if let old { superseded.append(old) }
            case .bad(let record, _): bad.append(record)
            case .duplicate: break
            }
        }
        try await ctx.step(programme: programme) { db, step in
            try await db.logTransfers(transfers, in: step)
            if !superseded.isEmpty { try await db.deprecate("TransferLog", ids: superseded, in: step) }
            try await db.logQuarantine(bad, in: step)
        }
        let files = transfers.filter { $0.fileType != "marker" }
        tally.transferred += files.count
        tally.newVersions += files.filter { $0.version > 1 }.count
        tally.quarantined += bad.count
    }

    /// Where version `version` of a delivered file goes: `fits/<night>/<name>`, or
    /// `fits/<night>/v<N>/<name>` when an earlier version came in the same night directory.
    static func archivePath(night: String, name: String, version: Int32, taken: [ArchivedTransfer],
                            _ layout: ArchiveLayout) -> URL {
        let plain = layout.fitsPath(night: night, name: name, version: 1)
        return taken.contains { $0.fileName == plain.path } ? layout.fitsPath(night: night, name: name, version: version) : plain
    }

    /// Moves a fetched file into place (same file system: a rename).
    static func place(_ staged: URL, at target: URL) throws {
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(staged.path, target.path) != 0 {
            throw WrapperError(.writeFailed, file: target.path, "cannot move \(staged.path) here: \(String(cString: strerror(errno)))")
        }
    }

    static func fileType(_ name: String) -> String {
        if name.hasSuffix("_cat.fits") { return "catalogue" }
        if name.hasSuffix("_conf.fit") { return "conf" }
        return "image"
    }

    /// `w…_sf_st_cat.fits` → `w…_sf_st.fit`.
    static func imageName(ofCatalogue name: String) -> String? {
        name.hasSuffix("_cat.fits") ? String(name.dropLast("_cat.fits".count)) + ".fit" : nil
    }
}
