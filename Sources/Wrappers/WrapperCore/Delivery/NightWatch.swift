public import Foundation
import SystemSupport
public import AppDriver

/// How long each delivery night has been seen not ready, so that a broken delivery (no
/// COMPLETE marker, or one whose sizes never agree) becomes an ERROR after a while instead of
/// waiting silently for ever. Kept in `<spool>/cu1-unready-nights.tsv` (`night<TAB>first seen,
/// Unix seconds`), written atomically; a night leaves it once it is ready or gone.
public struct NightWatch: Sendable {
    public let file: String
    /// How long a night may stay not ready before it is reported as an error.
    public let limit: TimeInterval

    public init(spool: String, limit: TimeInterval) {
        self.file = "\(spool)/cu1-unready-nights.tsv"
        self.limit = limit
    }

    /// Records that `notReady` are not ready at `now` (the others are forgotten) and returns
    /// those first seen not ready at least ``limit`` before `now`, with when that was.
    public func update(notReady: [String], at now: Date) throws(WrapperError) -> [(night: String, since: Date)] {
        var seen = read()
        seen = seen.filter { notReady.contains($0.key) }
        for night in notReady where seen[night] == nil { seen[night] = now }
        let text = seen.keys.sorted().map { "\($0)\t\(Int64(seen[$0]!.timeIntervalSince1970))\n" }.joined()
        do {
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try AtomicFile.write(Array(text.utf8), to: file)
        } catch {
            throw WrapperError(.writeFailed, file: file, "cannot record the nights not ready: \(error)")
        }
        return seen.filter { now.timeIntervalSince($0.value) >= limit }.sorted { $0.key < $1.key }
            .map { (night: $0.key, since: $0.value) }
    }

    func read() -> [String: Date] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        var seen: [String: Date] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2, let seconds = Int64(fields[1]) {
                seen[String(fields[0])] = Date(timeIntervalSince1970: TimeInterval(seconds))
            }
        }
        return seen
    }
}
