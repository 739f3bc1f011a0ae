import Foundation
import AppDriver

/// The scratch directories of the SWarp drivers (``StackDriver``, ``DiaDriver``), with the one
/// error they throw when one cannot be made.
enum WorkDirectory {
    /// Makes `directory` (and its parents) if missing; `writeFailed` naming it when it cannot.
    static func create(_ directory: URL) throws(WrapperError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw WrapperError(.writeFailed, file: directory.path, "cannot make the work directory: \(error.localizedDescription)")
        }
    }

    /// Makes a new private directory `PREFIX-UUID` inside `parent`; the caller removes it.
    static func createPrivate(in parent: URL, prefix: String) throws(WrapperError) -> URL {
        let directory = parent.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try create(directory)
        return directory
    }
}
