public import Foundation
public import WrapperCore
public import Drivers
import AppDriver

// What the product CUs (cu5, cu13, cu14) ask of the layer beyond their queries: the names and
// versions of the products they make, the inputs the drivers take, and the make-ingest-publish
// sequence every product goes through.

extension PendingProduct: CustomStringConvertible {
    /// One line for logs and `--dry-run`: what will be made, from how many frames.
    public var description: String {
        let place = kind == .stack ? String(format: " of the field at %.4f %+.4f", raBase, decBase) : ""
        let what = current.map { "remake (version \($0.version + 1))" } ?? "make"
        return "\(what) the \(filterName) \(kind)\(place) from \(inputs.count) frame(s), \(newFrames) new"
    }

    /// The product's name stem: `las_J_123.4567+01.2345_stack`, `dxs_K_mosaic`.
    public func stem(programme: ProgrammeInfo) -> String {
        let prog = programme.name.lowercased()
        if kind == .mosaic { return "\(prog)_\(filterName)_mosaic" }
        return String(format: "%@_%@_%08.4f%+08.4f_stack", prog, filterName, raBase, decBase)
    }

    /// The driver's inputs: those already in the current product and the new ones.
    public func stackInputs() throws -> (existing: [StackInput], new: [StackInput]) {
        let existingIDs = Set(current?.inputs ?? [])
        var existing: [StackInput] = [], new: [StackInput] = []
        for input in inputs {
            let stackInput = try input.stackInput()
            if existingIDs.contains(input.multiframeID) { existing.append(stackInput) } else { new.append(stackInput) }
        }
        return (existing, new)
    }

    /// The multiframeIDs of `files` (the driver's co-addition order), for Provenance.
    public func multiframeIDs(inOrderOf files: [URL]) -> [Int64] {
        let idOfPath = Dictionary(inputs.map { (URL(fileURLWithPath: $0.fileName).standardizedFileURL.path, $0.multiframeID) },
                                  uniquingKeysWith: { a, _ in a })
        return files.compactMap { idOfPath[$0.standardizedFileURL.path] }
    }

    /// The product and confidence map this one replaces.
    public var superseded: [Int64] { current?.ownIDs ?? [] }
}

extension PendingDiff: CustomStringConvertible {
    public var description: String {
        "subtract \(Self.baseName(continuum.fileName)) (\(continuum.filterName)) from \(Self.baseName(line.fileName)) (\(line.filterName))"
    }

    /// `w20061231_00123_h2-k_diff`: the line frame's name with the pair of passbands.
    public var stem: String {
        let name = URL(fileURLWithPath: line.fileName).deletingPathExtension().lastPathComponent
        return "\(name)_\(line.filterName.lowercased())-\(continuum.filterName.lowercased())_diff"
    }

    /// The difference image and confidence map this one replaces.
    public var superseded: [Int64] { current?.ownIDs ?? [] }

    private static func baseName(_ path: String) -> String { URL(fileURLWithPath: path).lastPathComponent }
}

extension ProductInput {
    /// The frame and its confidence map as a driver reads them.
    public func stackInput() throws -> StackInput {
        try StackInput(image: URL(fileURLWithPath: fileName), confidence: URL(fileURLWithPath: confName))
    }
}

extension ExistingProduct {
    /// The product's own rows: its image and, when it has one, its confidence map.
    var ownIDs: [Int64] { [multiframeID, confID].filter { $0 > 0 } }
}

extension CUContext {
    /// The next version of the product `stem` of `programme`, at its place in the archive.
    public func planProduct(_ kind: FrameType, programme: ProgrammeInfo, stem: String, filterID: Int16,
                            inputs: [Int64] = [], supersedes: [Int64]) throws -> MadeProduct {
        let stemPath = layout.productPath(programme: programme.name, kind: kind, name: stem + "_v").path
        let version = try nextProductVersion(stem: stemPath)
        return MadeProduct(frameType: kind, image: URL(fileURLWithPath: "\(stemPath)\(version).fit"),
                           confidence: URL(fileURLWithPath: "\(stemPath)\(version)_conf.fit"), inputs: inputs,
                           programmeID: programme.programmeID, filterID: filterID, version: version, supersedes: supersedes)
    }

    /// Makes `product`: `make` writes its `.part` files in a scratch directory and returns its
    /// inputs in Provenance order (nil: as planned); the product is ingested in one step and
    /// given its final names once the step has committed. A failure removes the `.part` files.
    public func makeProduct(_ product: MadeProduct, programme: ProgrammeInfo,
                            _ make: (_ product: MadeProduct, _ driver: AppDriver, _ scratch: URL) async throws -> [Int64]?)
        async throws
    {
        var made = product
        let driver = appDriver
        do {
            if let order = try await withScratchDirectory({ try await make(product, driver, $0) }) { made.inputs = order }
            try await step(programme: programme.name) { [made] db, step in
                try await ingestProducts([made], db: db, step: step)
            }
        } catch {
            discardProducts([made])
            throw error
        }
        try publishProducts([made])
    }

    /// Runs source-extractor on every image extension of `product`, one per core (the
    /// configuration runs each on one thread); the catalogues in extension order.
    public func extractSources(of product: PendingExtraction, timeout: Duration, workDirectory: URL) async throws
        -> [(extNum: Int16, catalogue: ExtractedCatalogue)]
    {
        let driver = appDriver
        let work = product.extensions.sorted { $0.key < $1.key }
        let jobs = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var catalogues: [(extNum: Int16, catalogue: ExtractedCatalogue)] = []
        try await withThrowingTaskGroup(of: (Int16, ExtractedCatalogue).self) { group in
            var next = 0
            func launch() {
                guard next < work.count else { return }
                let (extNum, zeroPoint) = work[next]
                next += 1
                group.addTask {
                    (extNum, try await CatExDriver.extractSources(
                        image: product.fileName, hdu: Int(extNum), weight: product.confName, zeroPoint: zeroPoint,
                        exposureTime: product.expTime, appDriver: driver, workDirectory: workDirectory, timeout: timeout))
                }
            }
            for _ in 0..<jobs { launch() }
            while let done = try await group.next() {
                catalogues.append(done)
                launch()
            }
        }
        return catalogues.sorted { $0.extNum < $1.extNum }
    }

    /// Loads the detections of `catalogues` into the product's Detection table within `step`,
    /// with its CatalogueIngest row; returns the rows loaded.
    public func loadDetections(_ catalogues: [(extNum: Int16, catalogue: ExtractedCatalogue)], of product: PendingExtraction,
                               db: DbHandler, step: DbHandler.Step) async throws -> Int {
        try FileManager.default.createDirectory(at: db.transactionDirectory, withIntermediateDirectories: true)
        let files = try catalogues.map { extNum, catalogue in
            try catalogue.makeTransactionData(
                target: DetectionTarget(table: product.detectionTable, multiframeID: product.multiframeID, extNum: extNum,
                                        filterID: product.filterID, cuEventID: Int32(step.cuEventID)),
                into: db.transactionDirectory)
        }
        let rows = try await db.loadAll(files, in: step)
        try await db.logCatalogueIngest([CatalogueIngestRecord(
            multiframeID: product.multiframeID, catName: product.fileName, detectionTable: product.detectionTable,
            rowsLoaded: Int64(rows))], in: step)
        return rows
    }
}
