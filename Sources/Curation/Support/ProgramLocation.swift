public import Foundation

/// Where the running program is installed: the curation programs, dbrpcserver and the tools'
/// resource bundle live side by side.
public enum ProgramLocation {
    /// The directory of this executable (`/proc/self/exe`, else argv[0]).
    public static var directory: URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent()
    }
}
