public import Foundation
public import RPCContract
import AppDriver

/// Runs failed curation runs again: each run's recorded command, looked up in one directory of
/// curation programs only, with `WSA_RESUME_OF=<cuEventID>` in its environment (the CU passes it
/// to beginStep as resumeOf, so the new run points at the one it makes good).
public struct RunResumer: Sendable {
    /// Where the CU programs are (normally dbrpcserver's own directory).
    public var programDirectory: URL
    /// Where each resumed run's standard output and error go (`resume-<cuEventID>.out`).
    public var outputDirectory: URL

    public init(programDirectory: URL, outputDirectory: URL) {
        self.programDirectory = programDirectory
        self.outputDirectory = outputDirectory
    }

    /// What resuming one run did (the contract's answer to `resume`).
    public typealias Outcome = RPC.Resume.Started

    /// Programs a resume may start.
    static func isCurationProgram(_ name: String) -> Bool {
        name == "curate" || (name.hasPrefix("cu") && name.count <= 4 && Int(name.dropFirst(2)).map { (1...20).contains($0) } == true)
    }

    /// Starts every run's command again (or, with `dryRun`, says what it would start).
    public func resume(_ runs: [CurationRun], dryRun: Bool) -> [Outcome] {
        runs.map { run in
            guard let name = run.command.first.map({ URL(fileURLWithPath: $0).lastPathComponent }),
                  Self.isCurationProgram(name) else {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "not resumable: its command (\(run.command.first ?? "none")) is not a curation program")
            }
            let program = programDirectory.appendingPathComponent(name).path
            guard FileManager.default.isExecutableFile(atPath: program) else {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "not resumable: \(program) is not an executable")
            }
            if dryRun {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "would run \(([program] + run.command.dropFirst()).joined(separator: " "))")
            }
            do {
                let pid = try spawn(program, Array(run.command.dropFirst()), resumeOf: run.cuEventID)
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: pid,
                               message: "started as process \(pid)")
            } catch {
                return Outcome(cuEventID: run.cuEventID, command: run.command, pid: nil,
                               message: "cannot start \(program): \(error)")
            }
        }
    }

    private func spawn(_ program: String, _ arguments: [String], resumeOf: Int) throws -> Int32 {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let output = outputDirectory.appendingPathComponent("resume-\(resumeOf).out").path
        let process = try DetachedProcess(program, arguments, environment: ["WSA_RESUME_OF": String(resumeOf)],
                                          outputFile: output, ownProcessGroup: true)
        process.reapWhenDone()
        return process.pid
    }
}
