import Curation
import FITS
public import Foundation
public import AppDriver
import SystemSupport

/// How library images are made.
public struct CompressOptions: Sendable, Equatable {
    /// JPEG quality (1…100) of the library image and its thumbnail.
    public var quality: Int = 90
    /// The thumbnail's longest side in pixels; an image already that small keeps its size.
    public var thumbnailSize: Int = 256
    /// How pixel values become grey levels.
    public var stretch: Stretch = .zscale

    public init() {}
}

/// How pixel values become grey levels.
public enum Stretch: String, Sendable, CaseIterable {
    /// IRAF zscale: linear between limits fitted to the sorted pixel values (contrast 0.25).
    case zscale
    /// asinh between the 0.25 and 99.75 percentiles: faint sky and bright cores both visible.
    case asinh
}

/// One library image made by ``CompressHandler``.
public struct CompressedImage: Sendable, Equatable {
    /// The HDU it shows (1-based, primary = 1).
    public var hdu: Int
    /// The library image.
    public var jpeg: URL
    /// The reduced copy, longest side ``CompressOptions/thumbnailSize``.
    public var thumbnail: URL
    /// The JPEG's size (the HDU's, transposed when the orientation transposes).
    public var width: Int
    public var height: Int
    /// False when the HDU has no usable WCS: the image is then kept as stored (pixel (1, 1) at
    /// the bottom left).
    public var northUp: Bool
    /// How the stored pixels were laid out in the JPEG.
    public var orientation: Orientation
}

/// Makes the JPEG "library images" of CU2 (seed 004 §6: `CompressHandler.compress`): every
/// image extension stretched to 8 bits, turned north up and east left, written as a JPEG and
/// a box-averaged thumbnail.
///
/// Files are written atomically: each as `NAME.part`, fsynced, renamed, the directory fsynced.
/// On any failure nothing is left under either name. Calls block the calling thread.
public enum CompressHandler {
    /// One image HDU (1-based, primary = 1, as ``FitsReader`` numbers them) → JPEG + thumbnail.
    public static func compress(_ fitsPath: String, hdu: Int, to jpeg: URL, thumbnail: URL,
                                options: CompressOptions = .init()) throws(WrapperError) -> CompressedImage {
        var scratch = Scratch()
        return try compress(fitsPath, hdu: hdu, to: jpeg, thumbnail: thumbnail, options: options, scratch: &scratch)
    }

    /// Pixel and grey-level buffers one thread reuses from one HDU to the next.
    struct Scratch {
        var pixels: [Float] = []
        var grey: [UInt8] = []
    }

    static func compress(_ fitsPath: String, hdu: Int, to jpeg: URL, thumbnail: URL, options: CompressOptions,
                         scratch: inout Scratch) throws(WrapperError) -> CompressedImage {
        try check(options, fitsPath, jpeg: jpeg, thumbnail: thumbnail)
        let image = try readDisplay(fitsPath, hdu: hdu, stretch: options.stretch, pixels: &scratch.pixels, grey: &scratch.grey)
        let orientation = image.orientation ?? .identity
        let (width, height) = orientation.displaySize(width: image.width, height: image.height)
        let display = scratch.grey
        let small = Thumbnail.size(width: width, height: height, longest: options.thumbnailSize)
        let reduced = Thumbnail.boxAverage(display, width: width, height: height, to: small)
        let files: [(URL, [UInt8])]
        do {
            files = [
                (jpeg, try JPEGWriter.encode(grey: display, width: width, height: height, quality: options.quality)),
                (thumbnail, try JPEGWriter.encode(grey: reduced, width: small.width, height: small.height,
                                                  quality: options.quality)),
            ]
        } catch {
            throw WrapperError(.compressFailed, file: fitsPath, "HDU \(hdu): \(error.message)")
        }
        try AtomicFiles.commit(files, for: fitsPath)
        return CompressedImage(hdu: hdu, jpeg: jpeg, thumbnail: thumbnail, width: width, height: height,
                               northUp: image.orientation != nil, orientation: orientation)
    }

    /// Every image HDU of a file, `jobs` at a time (each on its own thread, with its own open
    /// file when cfitsio is reentrant) — returned in HDU order. `jpegs` names the outputs of each
    /// HDU; it is called on the calling thread before any work starts. If any HDU fails, the
    /// outputs of the others are removed too and the first failure (in HDU order) is thrown.
    /// `jobs` defaults to twice the cores: a thread waiting for its JPEGs to reach the disk
    /// (fsync) leaves its core to another.
    public static func compressAll(_ fitsPath: String, jpegs: (Int) -> (jpeg: URL, thumbnail: URL),
                                   options: CompressOptions = .init(),
                                   jobs: Int = 2 * ProcessInfo.processInfo.activeProcessorCount)
        throws(WrapperError) -> [CompressedImage] {
        let all: [HDUInfo]
        do {
            all = try FITSThreads.serialised {
                let file = try FITSFile.open(fitsPath)
                defer { try? file.close() }
                return try file.hdus()
            }
        } catch {
            throw WrapperError(.unreadable, file: fitsPath, CompressHandler.describe(error, hdu: nil),
                               detail: (error as? FITSError)?.message ?? "")
        }
        // A frame is an image in every extension (WFCAM: one per detector): an extension that
        // no longer reads as one (a damaged ZIMAGE, ZNAXISn or BITPIX) spoils the file.
        if let table = all.first(where: { $0.index > 1 && !$0.holdsImage }) {
            throw WrapperError(.wrongContents, file: fitsPath,
                               "HDU \(table.index) does not read as an image (\(table.kind == .image ? "no pixels" : "a table")); every extension of an image file must be one")
        }
        let hdus = all.filter(\.holdsImage).map(\.index)
        guard !hdus.isEmpty else {
            throw WrapperError(.wrongContents, file: fitsPath, "has no image extension")
        }
        let work = hdus.map { (hdu: $0, outputs: jpegs($0)) }
        for item in work {
            try check(options, fitsPath, jpeg: item.outputs.jpeg, thumbnail: item.outputs.thumbnail)
        }
        let names = work.flatMap { [$0.outputs.jpeg, $0.outputs.thumbnail] }
        guard Set(names).count == names.count else {
            throw WrapperError(.compressFailed, file: fitsPath, "two HDUs were given the same output file")
        }

        struct Progress {
            var next = 0
            var failed = false
            var results: [Int: Result<CompressedImage, WrapperError>] = [:]
        }
        let progress = Locked(Progress())
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, work.count))) { _ in
            var scratch = Scratch()
            while let index = progress.withLock({ p -> Int? in
                guard !p.failed, p.next < work.count else { return nil }
                p.next += 1
                return p.next - 1
            }) {
                let item = work[index]
                let result = Result { () throws(WrapperError) -> CompressedImage in
                    try compress(fitsPath, hdu: item.hdu, to: item.outputs.jpeg,
                                 thumbnail: item.outputs.thumbnail, options: options, scratch: &scratch)
                }
                progress.withLock {
                    $0.results[index] = result
                    if case .failure = result { $0.failed = true }
                }
            }
        }

        let results = progress.withLock { $0.results }
        var done: [CompressedImage] = []
        for index in work.indices {
            switch results[index] {
            case .success(let image)?:
                done.append(image)
            case .failure(let error)?:
                for case .success(let image) in results.values {
                    try? FileManager.default.removeItem(at: image.jpeg)
                    try? FileManager.default.removeItem(at: image.thumbnail)
                }
                throw error
            case nil:
                continue  // not started because another HDU failed
            }
        }
        return done
    }

    /// True when the cfitsio in use is built thread-safe (Debian's is), so HDUs are read in
    /// parallel; otherwise only the reads are serialised.
    public static var cfitsioIsReentrant: Bool { FITSThreads.isReentrant }

    private static func check(_ options: CompressOptions, _ path: String, jpeg: URL, thumbnail: URL) throws(WrapperError) {
        guard (1...100).contains(options.quality) else {
            throw WrapperError(.compressFailed, file: path, "JPEG quality \(options.quality) is outside 1…100")
        }
        guard options.thumbnailSize >= 1 else {
            throw WrapperError(.compressFailed, file: path, "thumbnail size \(options.thumbnailSize) is below 1 pixel")
        }
        guard jpeg.standardizedFileURL != thumbnail.standardizedFileURL else {
            throw WrapperError(.compressFailed, file: path, "the JPEG and its thumbnail are the same file \(jpeg.path)")
        }
    }

    /// The shape of one image HDU as stored (x fastest), and its north-up orientation.
    struct StoredImage {
        var width: Int
        var height: Int
        var orientation: Orientation?
    }

    /// Reads one image HDU and lays out its grey levels in `grey` (`pixels` is its read buffer;
    /// both keep their storage from one call to the next). When each tile of the
    /// image is one row (cfitsio's default, and CASU's) or the image is not compressed, the rows
    /// of the sample grid are read first, then the image in strips, each mapped to grey while it
    /// is still in the core's cache; otherwise the whole image is read, then mapped.
    static func readDisplay(_ path: String, hdu: Int, stretch: Stretch,
                            pixels: inout [Float], grey: inout [UInt8]) throws(WrapperError) -> StoredImage {
        do {
            return try FITSThreads.serialised {
                let file = try FITSFile.open(path)
                defer { try? file.close() }
                guard try file.moveTo(hdu: hdu) == .image else {
                    throw WrapperError(.wrongContents, file: path, "HDU \(hdu) is a table, not an image")
                }
                let (_, dimensions) = try file.imageShape()
                guard dimensions.count >= 2, dimensions.allSatisfy({ $0 >= 1 }),
                      dimensions.dropFirst(2).allSatisfy({ $0 == 1 }) else {
                    throw WrapperError(.wrongContents, file: path,
                                       "HDU \(hdu) holds no 2-dimensional image (axes \(dimensions))")
                }
                let width = dimensions[0], height = dimensions[1]
                guard width <= JPEGWriter.maximumSide, height <= JPEGWriter.maximumSide else {
                    throw WrapperError(.compressFailed, file: path,
                                       "HDU \(hdu): \(width)×\(height) pixels is more than a JPEG holds")
                }
                let orientation = (try? file.wcs()).flatMap { Orientation.northUp(wcs: $0, width: width, height: height) }
                let layout = ImageStretch.DisplayLayout(width: width, height: height, orientation: orientation ?? .identity)
                let rowTiles = try !file.isCompressedImage() || (file.readKey("ZTILE2")?.intValue ?? 1) == 1
                guard rowTiles else {
                    if pixels.count != width * height { pixels = [] }  // exactly this image's size
                    try file.readPixels(first: 1, count: width * height, into: &pixels)
                    ImageStretch.greyLevels(pixels, width: width, height: height, stretch: stretch,
                                            orientation: layout.orientation, into: &grey)
                    return StoredImage(width: width, height: height, orientation: orientation)
                }
                let grid = ImageStretch.SampleGrid(width: width, height: height)
                var sample: [Float] = []
                sample.reserveCapacity(ImageStretch.maximumSamples + width + height)
                for y in grid.rows {
                    try file.readPixels(first: y * width + 1, count: width, into: &pixels)
                    pixels.withUnsafeBufferPointer { grid.collect(row: $0.baseAddress!, into: &sample) }
                }
                sample.sort()
                let map = ImageStretch.GreyMap(sortedSample: sample, stretch: stretch)
                layout.prepare(&grey)
                for first in stride(from: 0, to: height, by: ImageStretch.DisplayLayout.stripRows) {
                    let rows = min(ImageStretch.DisplayLayout.stripRows, height - first)
                    try file.readPixels(first: first * width + 1, count: rows * width, into: &pixels)
                    pixels.withUnsafeBufferPointer { strip in
                        grey.withUnsafeMutableBufferPointer { display in
                            layout.write(rows: first, count: rows, from: strip.baseAddress!, into: display, map: map)
                        }
                    }
                }
                return StoredImage(width: width, height: height, orientation: orientation)
            }
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.unreadable, file: path, describe(error, hdu: hdu), detail: (error as? FITSError)?.message ?? "")
        }
    }

    /// A cfitsio failure as "HDU n: operation failed: message" (the file is named by the caller).
    static func describe(_ error: any Error, hdu: Int?) -> String {
        guard var error = error as? FITSError else { return (hdu.map { "HDU \($0): " } ?? "") + "\(error)" }
        error.hdu = hdu ?? error.hdu
        return FitsReader.problem(error)
    }
}

/// Writes files so that each appears complete under its name or not at all.
enum AtomicFiles {
    /// Writes every file under a temporary name (fsynced; directories made as needed), then
    /// renames them all (``AtomicFile/commit(_:)``): all appear, or none.
    static func commit(_ files: [(URL, [UInt8])], for source: String) throws(WrapperError) {
        var staged: [(temporary: String, path: String)] = []
        do throws(SystemCallError) {
            for (url, bytes) in files {
                try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                staged.append((try AtomicFile.writeTemporary(bytes, beside: url.path), url.path))
            }
            try AtomicFile.commit(staged)
        } catch {
            for file in staged { unlink(file.temporary) }
            throw WrapperError(.writeFailed, file: source, "cannot write \(error)")
        }
    }
}
