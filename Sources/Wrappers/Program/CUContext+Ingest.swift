public import Foundation
import SystemSupport
public import WrapperCore
public import AppDriver
import Curation
import Logging

extension CUContext {
    /// The delivery area of `[paths] delivery` (a directory or an http(s) URL).
    public func deliveryArea(settle: Duration = .seconds(2)) throws(WrapperError) -> any DeliveryArea {
        try makeDeliveryArea(config.paths.delivery, settle: settle)
    }

    /// Every night of `area` as CU1 sees it: ready or not, and which files are new or may have
    /// changed. Markers are staged in the archive's incoming area, or in a scratch directory
    /// with `--dry-run`.
    public func surveyNights(in area: any DeliveryArea, rehash: Bool) async throws -> [NightSurvey] {
        if options.dryRun {
            return try await withScratchDirectory { scratch in
                try await DeliveryPlanner(area: area, staging: scratch).survey(query: query, rehash: rehash)
            }
        }
        return try await DeliveryPlanner(area: area, staging: layout.incoming).survey(query: query, rehash: rehash)
    }

    /// CU1's transfer of nights from `area`, for the programmes of this run.
    public func nightTransfer(from area: any DeliveryArea, jobs: Int) throws -> NightTransfer {
        NightTransfer(area: area, layout: layout, query: query, programmes: try query.programmeInfo(),
                      wanted: Set(try programmes().map(\.programmeID)), jobs: jobs, logger: logger)
    }

    /// CU3's ingest of `programme`'s frames.
    public func frameIngest(_ programme: ProgrammeInfo) throws -> FrameIngest {
        FrameIngest(query: query, layout: layout, programme: programme, filters: try query.filterIDs(), logger: logger)
    }

    /// A line for the log: what the run did or why it did not.
    public func note(_ line: String) {
        logger.info("\(line)")
    }

    /// A line for the log and, unless `--quiet`, for the person running the program (stdout).
    public func report(_ line: String) {
        logger.info("\(line)")
        if !options.quiet { print(line) }
    }

    /// A line for the log about something a person may want to look at (not mailed).
    public func warn(_ line: String) {
        logger.warning("\(line)")
    }

    /// An ERROR for a person to act on (mailed, gathered into the run's one alert mail), the
    /// run going on.
    public func alarm(_ line: String) {
        logger.error("\(line)")
    }

    /// Records the nights of `surveys` that are not ready and reports, as ERRORs, those not
    /// ready for `limit` or longer (``NightWatch``); not with `--dry-run`.
    public func watchUnreadyNights(_ surveys: [NightSurvey], limit: Duration, now: Date = Date()) throws {
        guard !options.dryRun else { return }
        let watch = NightWatch(spool: config.paths.spool, limit: limit.secondsValue)
        let reasons = Dictionary(surveys.filter { !$0.ready }.map { ($0.night, $0.reason) }, uniquingKeysWith: { a, _ in a })
        for (night, since) in try watch.update(notReady: Array(reasons.keys), at: now) {
            let hours = String(format: "%.1f", now.timeIntervalSince(since) / 3600)
            alarm("night \(night) of \(config.paths.delivery.absoluteString) has not been ready for \(hours) h: "
                  + "\(reasons[night] ?? "")")
        }
    }

    /// The runner of external programs, with the tools of `[tools]`.
    public var appDriver: AppDriver { AppDriver(config: config) }

    /// Holds this program's single-instance lock (`<spool>/<program>.lock`) until the returned
    /// lock is released; throws ``WrapperError/Code/alreadyRunning`` naming the holder.
    public func holdSingleInstance() throws -> SingleInstance {
        try SingleInstance(path: layout.spool.appendingPathComponent("\(program).lock"), program: program)
    }

    /// The progress bar (on a terminal) expects `total` items of work.
    public func expectWork(_ total: Int) { progress.setTotal(total) }

    /// One item of work is done: the progress bar advances.
    public func workDone(_ items: Int = 1) { progress.advance(items) }
}
