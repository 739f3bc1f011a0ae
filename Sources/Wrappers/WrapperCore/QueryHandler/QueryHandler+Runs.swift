import Foundation
import Postgres
public import AppDriver

/// A failed run not yet made good: what `resume` runs again.
public struct ResumableRun: Sendable, Hashable {
    public var cuEventID: Int
    public var cuID: Int
    public var programme: String
    /// The command that started it (argv; argv[0] the program's name).
    public var command: [String]
    public var errorText: String
    /// How many resumes of it failed already.
    public var failedResumes: Int
}

extension QueryHandler {
    /// Failed runs not yet made good, oldest first.
    public func resumableRuns() throws(WrapperError) -> [ResumableRun] {
        try run("list failed runs") {
            try connection.query("""
                SELECT cuEventID, cuID, programme, command::text AS command, errorText, failedResumes
                FROM ResumableRun ORDER BY cuEventID
                """, []).map { row in
                let json = try row.decode(String.self, "command")
                let command = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] ?? []
                return ResumableRun(cuEventID: try row.decode(Int.self, "cueventid"), cuID: try row.decode(Int.self, "cuid"),
                                    programme: try row.decode(String.self, "programme"), command: command,
                                    errorText: try row.decode(String.self, "errortext"),
                                    failedResumes: try row.decode(Int.self, "failedresumes"))
            }
        }
    }

    /// Runs still open (status started), as (cuEventID, cuID, holder).
    public func openRuns() throws(WrapperError) -> [(cuEventID: Int, cuID: Int, holder: String)] {
        try run("list open runs") {
            try connection.query("SELECT cuEventID, cuID, holder FROM ProgrammeCurationHistory WHERE status = 'started' ORDER BY cuEventID", [])
                .map { (try $0.decode(Int.self, "cueventid"), try $0.decode(Int.self, "cuid"), try $0.decode(String.self, "holder")) }
        }
    }
}
