import Curation
public import Foundation
public import WrapperCore
import AppDriver
import Logging
import SystemSupport
import TransactionFormat
#if canImport(Glibc)
import Glibc
#endif

/// A product (stack, mosaic, difference image) written under `NAME.part` names, to be ingested
/// in a step and renamed to its final name once that step has committed.
public struct MadeProduct: Sendable, Hashable {
    /// ``FrameType/stack``, ``FrameType/mosaic`` or ``FrameType/diff``.
    public var frameType: FrameType
    /// The final paths of the product and its confidence map.
    public var image: URL
    public var confidence: URL
    /// The inputs (multiframeIDs) in Provenance order: the reference frame first.
    public var inputs: [Int64]
    public var programmeID: Int32
    public var filterID: Int16
    public var version: Int32
    /// The products (and their confidence maps) this one replaces: deprecated in the same step.
    public var supersedes: [Int64]

    public init(frameType: FrameType, image: URL, confidence: URL, inputs: [Int64], programmeID: Int32,
                filterID: Int16, version: Int32, supersedes: [Int64]) {
        self.frameType = frameType
        self.image = image
        self.confidence = confidence
        self.inputs = inputs
        self.programmeID = programmeID
        self.filterID = filterID
        self.version = version
        self.supersedes = supersedes
    }

    /// Where the file is written before its rows commit.
    public static func partPath(_ url: URL) -> URL { url.appendingPathExtension("part") }
    public var partImage: URL { Self.partPath(image) }
    /// The image's final path, for logs.
    public var imagePath: String { image.path }
    public var partConfidence: URL { Self.partPath(confidence) }
}

/// Deprecation code of a product replaced by one of more (or newer) frames.
public let supersededByNewerProduct = 2

extension CUContext {
    /// The next free version of a product whose file names start with `stem` (1 for a new one).
    public func nextProductVersion(stem: String) throws -> Int32 {
        try query.latestVersion(ofFilesStartingWith: stem) + 1
    }

    /// Ingests `products` within `step`: a Multiframe, MultiframeDetector and CurrentAstrometry
    /// row for each product and for its confidence map (linked by confID), JPEGs of its image
    /// extensions (named after the final file), its Provenance, and the deprecation of what it
    /// supersedes. Returns the number of image extensions ingested.
    @discardableResult
    public func ingestProducts(_ products: [MadeProduct], db: DbHandler, step: DbHandler.Step,
                               compression: CompressOptions = .init()) async throws -> Int {
        guard !products.isEmpty else { return 0 }
        let ids = try await db.reserveIDs("Multiframe", count: 2 * products.count)
        let stamp = UTCTime.timeStamp(Date())
        var frames: [(ImageMetadata, FrameRecord)] = []
        var provenance: [ProvenanceRecord] = []
        var detectors = 0
        for (i, product) in products.enumerated() {
            let imageID = ids[2 * i], confID = ids[2 * i + 1]
            let confMetadata = try Self.metadata(product.partConfidence)
            frames.append((confMetadata, FrameRecord(
                multiframeID: confID, fileName: product.confidence.path, version: product.version, frameType: .conf,
                programmeID: product.programmeID, filterID: product.filterID,
                fileSize: try Self.size(product.partConfidence),
                checksum: try StagedFile.hash(product.partConfidence.path, label: product.confidence.path),
                fileTimeStamp: stamp, cuEventID: Int32(step.cuEventID))))
            let layout = self.layout
            let jpegs = try CompressHandler.compressAll(product.partImage.path, jpegs: { hdu in
                layout.jpegPaths(forArchived: product.image.path, hdu: hdu)
            }, options: compression)
            let metadata = try Self.metadata(product.partImage)
            detectors += metadata.detectors.count
            frames.append((metadata, FrameRecord(
                multiframeID: imageID, fileName: product.image.path, version: product.version,
                frameType: product.frameType, programmeID: product.programmeID, filterID: product.filterID,
                confID: confID, fileSize: try Self.size(product.partImage),
                checksum: try StagedFile.hash(product.partImage.path, label: product.image.path),
                fileTimeStamp: stamp, cuEventID: Int32(step.cuEventID),
                compFiles: jpegs.reduce(into: [:]) { $0[$1.hdu] = $1.jpeg.path })))
            provenance += product.inputs.enumerated().map {
                ProvenanceRecord(combiframeID: imageID, multiframeID: $1, inputOrder: Int16($0))
            }
        }
        try FileManager.default.createDirectory(at: db.transactionDirectory, withIntermediateDirectories: true)
        let files = try ImageMetadataLoad.makeTransactionData(frames, into: db.transactionDirectory)
        try await db.loadAll(files, in: step)
        try await db.logProvenance(provenance, in: step)
        let superseded = products.flatMap(\.supersedes)
        if !superseded.isEmpty {
            try await db.deprecate("Multiframe", ids: superseded, code: supersededByNewerProduct, in: step)
        }
        return detectors
    }

    /// Gives committed products their final names (`NAME.part` → `NAME`).
    public func publishProducts(_ products: [MadeProduct]) throws {
        for product in products {
            for (part, final) in [(product.partConfidence, product.confidence), (product.partImage, product.image)] {
                do {
                    try Self.move(part, to: final)
                } catch {
                    throw WrapperError(.writeFailed, file: final.path, "cannot rename the committed product: \(error.localizedDescription)")
                }
            }
        }
    }

    /// Deletes the files of products that failed before their rows committed.
    public func discardProducts(_ products: [MadeProduct]) {
        for product in products {
            for url in [product.partImage, product.partConfidence] { try? FileManager.default.removeItem(at: url) }
        }
    }

    /// Finishes what a killed run left among the products: a `NAME.part` whose rows committed
    /// is renamed to `NAME` (safe at any time); with `removeUncommitted` (only while holding the
    /// write lease, when no other run can be writing one) a `NAME.part` whose rows did not
    /// commit, and the hidden temporary files of an unfinished write, are removed.
    /// Returns (renamed, removed).
    @discardableResult
    public func sweepProductFiles(removeUncommitted: Bool) throws -> (renamed: Int, removed: Int) {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: layout.products, includingPropertiesForKeys: nil) else { return (0, 0) }
        var parts: [URL] = [], temporaries: [URL] = []
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name.hasSuffix(".part") { parts.append(url) }
            if name.hasPrefix("."), name.hasSuffix(".tmp") { temporaries.append(url) }
        }
        let finals = parts.map { $0.deletingPathExtension() }
        let committed = try query.multiframeIDs(fileNames: finals.map(\.path))
        var renamed = 0, removed = 0
        for (part, final) in zip(parts, finals) {
            if committed[final.path] != nil {
                try? Self.move(part, to: final)
                renamed += 1
                logger.info("renamed \(part.path) to \(final.path): its rows had committed")
            } else if removeUncommitted {
                try? fm.removeItem(at: part)
                removed += 1
                logger.info("removed \(part.path): left by a run that did not commit it")
            }
        }
        for url in temporaries where removeUncommitted {
            try? fm.removeItem(at: url)
            removed += 1
        }
        return (renamed, removed)
    }

    private static func move(_ from: URL, to: URL) throws {
        do {
            try AtomicFile.move(from.path, to: to.path)
        } catch {
            throw WrapperError(.writeFailed, file: to.path, "cannot rename the committed product: \(error)")
        }
    }

    private static func metadata(_ url: URL) throws -> ImageMetadata {
        let reader = try FitsReader(url.path)
        defer { reader.close() }
        return try reader.readImageMetadata()
    }

    private static func size(_ url: URL) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? WSANull.bigInt
    }
}
