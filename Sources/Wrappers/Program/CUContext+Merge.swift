import Foundation
public import WrapperCore

/// CU8's steps (docs/cu/cu8.md): the due frame sets of a programme merged on the load server,
/// on one session or on several at once by q3c ipix range, then seamed.
extension CUContext {
    /// Merges `pending` (``QueryHandler/frameSetsToMerge(programmeID:)``) in steps of `perStep`
    /// frame sets on `sessions` load-server sessions; returns the frame sets merged or retired.
    public func mergeFrameSets(_ programme: ProgrammeInfo, _ pending: [FrameSetToMerge], sessions: Int, perStep: Int)
        async throws -> Int64
    {
        sessions > 1
            ? try await mergeOnSessions(programme, pending, sessions: sessions, perStep: perStep)
            : try await mergeOnOneSession(programme, pending, perStep: perStep)
    }

    /// One session: each step merges its frame sets and seams them (the whole sky); a seaming
    /// left by an earlier run goes with the first step, or is a step of its own.
    private func mergeOnOneSession(_ programme: ProgrammeInfo, _ pending: [FrameSetToMerge], perStep: Int)
        async throws -> Int64
    {
        let toMerge = pending.filter { !$0.seamOnly }
        var merged: Int64 = 0
        for batch in CUContext.batches(toMerge, of: perStep) {
            var done: Int64 = 0
            try await self.step(programme: programme.name) { db, step in
                done = try await db.mergeFrameSets(programmeID: programme.programmeID, count: batch.count, in: step)
            }
            merged += done
            self.workDone(Int(done))
        }
        if toMerge.isEmpty {
            try await self.step(programme: programme.name) { db, step in
                _ = try await db.mergeFrameSets(programmeID: programme.programmeID, count: 0, ipix: DbHandler.wholeSky,
                                                seam: true, in: step)
            }
        }
        self.workDone(pending.count - toMerge.count)
        return merged
    }

    /// `sessions` sessions: the ranges' merges at once, then the marks across their boundaries
    /// alone, then the ranges' seams at once.
    private func mergeOnSessions(_ programme: ProgrammeInfo, _ pending: [FrameSetToMerge], sessions: Int, perStep: Int)
        async throws -> Int64
    {
        let id = programme.programmeID
        let ranges = FrameSetToMerge.ipixRanges(pending, parts: sessions)
        _ = try await db()  // the lease, before the sessions start
        var merged = try await withThrowingTaskGroup(of: Int64.self) { group in
            for range in ranges {
                let share = pending.filter { !$0.seamOnly && range.contains($0.ipix) }
                guard !share.isEmpty else { continue }
                group.addTask {
                    var total: Int64 = 0
                    for batch in CUContext.batches(share, of: perStep) {
                        var done: Int64 = 0
                        try await self.step(programme: programme.name) { db, step in
                            done = try await db.mergeFrameSets(programmeID: id, count: batch.count, ipix: range, seam: false,
                                                               in: step)
                        }
                        total += done
                        self.workDone(Int(done))
                    }
                    return total
                }
            }
            var sum: Int64 = 0
            for try await n in group { sum += n }
            return sum
        }
        // What a range did not take (a centre on its edge computed a hair apart): the whole sky.
        let left = try self.query.frameSetsToMerge(programmeID: id).filter { !$0.seamOnly }
        for batch in CUContext.batches(left, of: perStep) {
            var done: Int64 = 0
            try await self.step(programme: programme.name) { db, step in
                done = try await db.mergeFrameSets(programmeID: id, count: batch.count, ipix: DbHandler.wholeSky, seam: false,
                                                   in: step)
            }
            merged += done
            self.workDone(Int(done))
        }
        try await self.step(programme: programme.name) { db, step in
            _ = try await db.markSeams(programmeID: id, in: step)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for range in ranges {
                group.addTask {
                    try await self.step(programme: programme.name) { db, step in
                        _ = try await db.seamSources(programmeID: id, ipix: range, in: step)
                    }
                }
            }
            try await group.waitForAll()
        }
        self.workDone(pending.filter(\.seamOnly).count)
        return merged
    }
}
