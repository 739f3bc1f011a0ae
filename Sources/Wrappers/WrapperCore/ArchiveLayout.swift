public import Curation
public import Foundation

/// Where the archive keeps what it ingests and makes, from the configuration's paths:
/// `<archive>/fits/<night>/<name>` (version k > 1 under `<night>/v<k>/`), JPEGs under
/// `<jpeg>/<night>/`, bad input under `<quarantine>/<night>/`. Every path is absolute.
public struct ArchiveLayout: Sendable, Equatable {
    public var archive: URL
    public var jpeg: URL
    public var quarantine: URL
    public var spool: URL

    public init(config: WSAConfig) {
        func absolute(_ path: String) -> URL { URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL }
        archive = absolute(config.paths.archive)
        jpeg = absolute(config.paths.jpeg)
        quarantine = absolute(config.paths.quarantine)
        spool = absolute(config.paths.spool)
    }

    /// The archive path of version `version` of the delivered file `night/name`.
    public func fitsPath(night: String, name: String, version: Int32) -> URL {
        var dir = archive.appendingPathComponent("fits", isDirectory: true).appendingPathComponent(night, isDirectory: true)
        if version > 1 { dir.appendPathComponent("v\(version)", isDirectory: true) }
        return dir.appendingPathComponent(name)
    }

    /// The archive path of a product (stack, mosaic, difference image) of `programme`:
    /// `<archive>/products/<programme>/<kind>/<name>`.
    public func productPath(programme: String, kind: FrameType, name: String) -> URL {
        archive.appendingPathComponent("products", isDirectory: true)
            .appendingPathComponent(programme.lowercased(), isDirectory: true)
            .appendingPathComponent(kind.rawValue, isDirectory: true).appendingPathComponent(name)
    }

    /// Where the products live.
    public var products: URL { archive.appendingPathComponent("products", isDirectory: true) }

    /// Where files are fetched before they are checked and renamed into place (same file system).
    public var incoming: URL { archive.appendingPathComponent(".incoming", isDirectory: true) }

    /// The JPEG and thumbnail of image HDU `hdu` of an archived FITS file.
    public func jpegPaths(forArchived fitsPath: String, hdu: Int) -> (jpeg: URL, thumbnail: URL) {
        let file = URL(fileURLWithPath: fitsPath)
        let relative = relativeToFits(file)
        let stem = file.deletingPathExtension().lastPathComponent
        let parent = (relative as NSString).deletingLastPathComponent
        let dir = parent.isEmpty ? jpeg : jpeg.appendingPathComponent(parent, isDirectory: true)
        return (dir.appendingPathComponent("\(stem)_\(hdu).jpg"), dir.appendingPathComponent("\(stem)_\(hdu)_thumb.jpg"))
    }

    /// Where a bad file found at `path` (archived, or `night/name` in the delivery area) goes.
    public func quarantinePath(for path: String) -> URL {
        let file = URL(fileURLWithPath: path)
        return quarantine.appendingPathComponent(path.hasPrefix("/") ? relativeToFits(file) : path)
    }

    /// The path of an archived file below `<archive>/fits` (night/[vK/]name), below the archive
    /// (products/…), or its last two components when it is elsewhere.
    private func relativeToFits(_ file: URL) -> String {
        let root = archive.appendingPathComponent("fits").path + "/"
        let path = file.standardizedFileURL.path
        if path.hasPrefix(root) { return String(path.dropFirst(root.count)) }
        if path.hasPrefix(archive.path + "/") { return String(path.dropFirst(archive.path.count + 1)) }
        return file.pathComponents.suffix(2).joined(separator: "/")
    }

    /// Whether `path` is a file this archive manages (below the archive root).
    public func isArchived(_ path: String) -> Bool {
        URL(fileURLWithPath: path).standardizedFileURL.path.hasPrefix(archive.path + "/")
    }
}
