import Foundation
public import WrapperCore
import Curation

/// Work the discovery tool found due: run `cu` (for `programme`, or for all) because of `reason`.
public struct DueWork: Sendable, Hashable {
    public var cu: Int
    public var programme: String?
    public var reason: String

    /// The run's identity across rounds: the CU and its programme.
    struct Key: Hashable { var cu: Int, programme: String? }
    var key: Key { Key(cu: cu, programme: programme) }
    /// `cu2 --programme LAS`.
    public var label: String { "cu\(cu)" + (programme.map { " --programme \($0)" } ?? "") }
}

/// A few names of the items waiting (` (a.fit, b.fit, c.fit and 12 more)`), so that work left
/// due can be found.
func naming(_ paths: [String], most: Int = 3) -> String {
    guard !paths.isEmpty else { return "" }
    let names = paths.prefix(most).map { $0.split(separator: "/").last.map(String.init) ?? $0 }
    let more = paths.count > most ? " and \(paths.count - most) more" : ""
    return " (\(names.joined(separator: ", "))\(more))"
}

/// A curation use case the discovery tool knows: which CUs must have run before it, whether it
/// runs per programme, and how to tell that it is due.
public struct CurationTask: Sendable {
    public var cu: Int
    public var program: String
    public var dependsOn: [Int]
    public var perProgramme: Bool
    /// What is waiting for it: a reason, or nil when nothing is (for `programme`, nil if global).
    public var due: @Sendable (CUContext, ProgrammeInfo?) async throws -> String?
}

/// The dependency graph of the curation use cases (seed 004 §7–8). It grows as CUs are added.
public enum CurationGraph {
    public static let tasks: [CurationTask] = [
        CurationTask(cu: 1, program: "cu1", dependsOn: [], perProgramme: false) { ctx, _ in
            let area = try makeDeliveryArea(ctx.config.paths.delivery)
            let surveys = try await ctx.withScratchDirectory { scratch in
                try await DeliveryPlanner(area: area, staging: scratch).survey(query: ctx.query)
            }
            for night in surveys where !night.ready && ctx.options.dryRun { ctx.report("curate: night \(night.night) is not ready: \(night.reason)") }
            let due = surveys.filter { $0.ready && !$0.unchanged }
            guard !due.isEmpty else { return nil }
            let files = due.reduce(0) { $0 + $1.candidates.count }
            return "\(due.count) ready night(s) new or changed in the delivery area (\(files) file(s) to check): "
                + due.map(\.night).joined(separator: ", ")
        },
        CurationTask(cu: 2, program: "cu2", dependsOn: [1], perProgramme: true) { ctx, programme in
            let pending = try ctx.query.framesToCompress(programmeID: programme?.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) transferred frame(s) without JPEGs\(naming(pending.map(\.fileName)))"
        },
        CurationTask(cu: 3, program: "cu3", dependsOn: [1, 2], perProgramme: true) { ctx, programme in
            let pending = try ctx.query.framesToIngest(programmeID: programme?.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) file(s) transferred and compressed but not in Multiframe\(naming(pending.map(\.fileName)))"
        },
        CurationTask(cu: 4, program: "cu4", dependsOn: [3], perProgramme: true) { ctx, programme in
            let pending = try ctx.query.cataloguesToIngest(programmeID: programme?.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) ingested frame(s) whose catalogue is not loaded\(naming(pending.map(\.catName)))"
        },
        CurationTask(cu: 5, program: "cu5", dependsOn: [3], perProgramme: true) { ctx, programme in
            guard let programme else { return nil }
            let pending = try ctx.query.diffsToMake(programmeID: programme.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) line frame(s) without a continuum-subtracted difference image"
        },
        CurationTask(cu: 6, program: "cu6", dependsOn: [4, 14], perProgramme: true) { ctx, programme in
            guard let programme else { return nil }
            let pending = try ctx.query.framesToIndex(programmeID: programme.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) frame(s) whose detections have no spatial attributes\(naming(pending.map(\.fileName)))"
        },
        CurationTask(cu: 8, program: "cu8", dependsOn: [6], perProgramme: true) { ctx, programme in
            guard let programme else { return nil }
            let pending = try ctx.query.frameSetsToMerge(programmeID: programme.programmeID)
            guard !pending.isEmpty else { return nil }
            let new = pending.filter(\.isNew).count
            return "\(pending.count) frame set(s) to merge (\(new) new, \(pending.count - new) changed or retired)"
        },
        CurationTask(cu: 9, program: "cu9", dependsOn: [8], perProgramme: true) { ctx, programme in
            guard let programme else { return nil }
            let pending = try ctx.query.frameSetsToRemeasure(programmeID: programme.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) frame set(s) not yet list-processed"
        },
        CurationTask(cu: 13, program: "cu13", dependsOn: [3], perProgramme: true) { ctx, programme in
            guard let programme else { return nil }
            let pending = try ctx.query.findNonStacked(programmeID: programme.programmeID)
            guard !pending.isEmpty else { return nil }
            let frames = pending.reduce(0) { $0 + $1.newFrames }
            return "\(pending.count) stack(s)/mosaic(s) to make or bring up to date (\(frames) frame(s) not in them)"
        },
        CurationTask(cu: 14, program: "cu14", dependsOn: [13], perProgramme: true) { ctx, programme in
            let pending = try ctx.query.productsToExtract(programmeID: programme?.programmeID)
            return pending.isEmpty ? nil : "\(pending.count) stack(s)/mosaic(s) whose detections are not loaded\(naming(pending.map(\.fileName)))"
        },
    ]

    /// The tasks in an order where every task comes after those it depends on.
    public static var ordered: [CurationTask] {
        var done: Set<Int> = [], result: [CurationTask] = []
        var rest = tasks
        while !rest.isEmpty {
            guard let next = rest.firstIndex(where: { Set($0.dependsOn).isSubset(of: done) }) else {
                preconditionFailure("the curation graph has a cycle among \(rest.map(\.cu))")
            }
            let task = rest.remove(at: next)
            done.insert(task.cu)
            result.append(task)
        }
        return result
    }

    /// Everything due now, in dependency order.
    public static func due(_ ctx: CUContext) async throws -> [DueWork] {
        var work: [DueWork] = []
        let programmes = try ctx.programmes()
        for task in ordered {
            if task.perProgramme {
                for programme in programmes {
                    if let reason = try await task.due(ctx, programme) {
                        work.append(DueWork(cu: task.cu, programme: programme.name, reason: reason))
                    }
                }
            } else if let reason = try await task.due(ctx, nil) {
                work.append(DueWork(cu: task.cu, programme: nil, reason: reason))
            }
        }
        return work
    }
}
