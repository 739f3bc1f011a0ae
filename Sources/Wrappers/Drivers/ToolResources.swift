import Curation
public import Foundation
public import AppDriver

/// The configuration files of the external tools (`Sources/Wrappers/Resources`), found without
/// `Bundle.module`, which ends the process when its bundle is missing: the resource bundle
/// `wsa_Wrappers.resources` beside the running program (where `swift build` puts it, and where
/// an installation copies it), else the source tree this was built from.
public enum ToolResources {
    /// The directory of `tool`'s files (e.g. `source-extractor`, `swarp`).
    public static func directory(_ tool: String) throws(WrapperError) -> URL {
        let bundles = [ProgramLocation.directory, Bundle.main.bundleURL]
            .map { $0.appendingPathComponent("wsa_Wrappers.resources/Resources", isDirectory: true) }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources", isDirectory: true)
        for root in bundles + [source] {
            let dir = root.appendingPathComponent(tool, isDirectory: true)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return dir
            }
        }
        throw WrapperError(.configuration, "the \(tool) configuration files are not installed: copy wsa_Wrappers.resources "
                           + "beside the programs (looked in \(bundles.map(\.path).joined(separator: ", ")))")
    }
}
