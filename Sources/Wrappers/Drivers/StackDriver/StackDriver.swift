import WrapperCore
import FITS
public import Foundation
public import AppDriver
#if canImport(Glibc)
import Glibc
#endif

/// Stacks and mosaics of CU13 (seed 004 §6: `addToStack`, `addToMosaic`), made by SWarp
/// (Debian `swarp`, program `SWarp`) through ``AppDriver`` with the configuration files in
/// `Resources/swarp/` (`stack.swarp`, `mosaic.swarp`).
///
/// - A **stack** co-adds frames of one pointing and passband detector by detector: extension k
///   of the product is SWarp's confidence-weighted mean of extension k of every frame, resampled
///   onto a TAN grid of 0.4″ pixels about that detector's footprint.
/// - A **mosaic** puts every detector of every frame onto one TAN image covering their union.
///
/// Frames are used in a canonical order (by MJD-OBS, then path; a frame given twice counts once),
/// and the first is the reference: its zero point per detector is the product's MAGZPT, its
/// EXP_TIME the product's (pixel values stay counts per exposure), its primary header the
/// product's. Every other frame is scaled by FLXSCALE = (t_ref / t) · 10^(0.4 (Z_ref − Z)),
/// Z = MAGZPT − EXTINCT·(X − 1) at the frame's airmass X. SWarp subtracts each frame's sky first.
///
/// SWarp reads only uncompressed images, so each extension (and its confidence map) is copied to
/// a plain FITS file in a private directory under `workDirectory`, removed at the end.
/// The product and its confidence map are written under temporary names in their destination
/// directory and renamed to `product` / `confidence` only when both are complete: a failure
/// (SWarp's exit status, a crash, a bad input, cancellation) leaves neither behind. A caller that
/// renames only after its database rows commit passes `NAME.part` paths: the headers then name
/// the final files (CIR_CPM drops a trailing `.part`).
///
/// The copies, and reading SWarp's output into the product, run on threads of their own (see
/// `StackPipeline.swift`): a stack's detectors are pipelined — detector k+1's inputs are copied
/// and detector k−1's extension written while SWarp co-adds detector k — and copies made while
/// SWarp is idle use every core. The product's bytes do not depend on the schedule. The primary
/// headers and the final commit block the calling thread briefly.
public enum StackDriver {
    /// Stacks `inputs` (frames of one pointing and passband, each with the same detectors).
    ///
    /// - Parameters:
    ///   - product: the stacked MEF to write (replaced if it exists).
    ///   - confidence: its confidence map.
    ///   - workDirectory: where SWarp's inputs and outputs go (a private directory inside it is
    ///     made and removed).
    ///   - timeout: limit for each SWarp run.
    /// - Throws: `unreadable`/`missingKeyword`/`wrongContents` for bad inputs (naming the file),
    ///   AppDriver's `toolMissing`, `failed`, `signalled`, `timedOut`, `cancelled` for SWarp,
    ///   `writeFailed` when the product cannot be written.
    public static func stack(_ inputs: [StackInput], to product: URL, confidence: URL,
                             appDriver: AppDriver, workDirectory: URL,
                             timeout: Duration? = nil) async throws(WrapperError) -> StackProduct {
        try await make(.stack, inputs, product, confidence, appDriver, workDirectory, timeout)
    }

    /// A mosaic of `inputs` (frames of one passband, any pointings): every detector of every
    /// frame resampled onto one TAN image that covers them all (SWarp's `CENTER_TYPE ALL`,
    /// `IMAGE_SIZE 0`). The product has one image extension.
    public static func mosaic(_ inputs: [StackInput], to product: URL, confidence: URL,
                              appDriver: AppDriver, workDirectory: URL,
                              timeout: Duration? = nil) async throws(WrapperError) -> StackProduct {
        try await make(.mosaic, inputs, product, confidence, appDriver, workDirectory, timeout)
    }

    /// Adds `new` frames to a stack made of `existing`: the stack is made again from all of
    /// them. SWarp's weighted mean (with per-frame sky subtraction and weight rescaling) is not
    /// incremental, so the result is exactly ``stack(_:to:confidence:appDriver:workDirectory:timeout:)``
    /// of `existing + new` — the same bytes as stacking everything at once. Frames of `new`
    /// already in `existing` are ignored.
    public static func addToStack(existing: [StackInput], new: [StackInput], to product: URL,
                                  confidence: URL, appDriver: AppDriver, workDirectory: URL,
                                  timeout: Duration? = nil) async throws(WrapperError) -> StackProduct {
        try await stack(existing + new, to: product, confidence: confidence, appDriver: appDriver,
                        workDirectory: workDirectory, timeout: timeout)
    }

    /// Adds `new` frames to a mosaic made of `existing` by making it again from all of them
    /// (as ``addToStack(existing:new:to:confidence:appDriver:workDirectory:timeout:)``).
    public static func addToMosaic(existing: [StackInput], new: [StackInput], to product: URL,
                                   confidence: URL, appDriver: AppDriver, workDirectory: URL,
                                   timeout: Duration? = nil) async throws(WrapperError) -> StackProduct {
        try await mosaic(existing + new, to: product, confidence: confidence, appDriver: appDriver,
                         workDirectory: workDirectory, timeout: timeout)
    }

    /// The frames in the order they are co-added: by MJD-OBS, then image path; a frame
    /// (same image path) given twice is kept once. The first is the reference.
    public static func ordered(_ inputs: [StackInput]) -> [StackInput] {
        var seen = Set<String>()
        let unique = inputs.filter { seen.insert($0.image.standardizedFileURL.path).inserted }
        return unique.sorted {
            $0.mjdObs != $1.mjdObs ? $0.mjdObs < $1.mjdObs
                : $0.image.standardizedFileURL.path < $1.image.standardizedFileURL.path
        }
    }

    /// The SWarp configuration files (`Resources/swarp`, see ``ToolResources``).
    public static func configurationDirectory() throws(WrapperError) -> URL {
        try ToolResources.directory("swarp")
    }

    /// The name SWarp is run under (the `[tools]` key is `swarp`).
    public static let tool = "SWarp"

    // MARK: - The work

    private static func make(_ kind: StackProduct.Kind, _ inputs: [StackInput], _ product: URL,
                             _ confidence: URL, _ appDriver: AppDriver, _ workDirectory: URL,
                             _ timeout: Duration?) async throws(WrapperError) -> StackProduct {
        let frames = ordered(inputs)
        try validate(kind, frames, product, confidence)
        let config = try configurationDirectory().appendingPathComponent(kind == .stack ? "stack.swarp" : "mosaic.swarp")
        guard FileManager.default.isReadableFile(atPath: config.path) else {
            throw WrapperError(.configuration, file: config.path, "SWarp configuration file is missing")
        }
        _ = try appDriver.locate(tool)  // a missing SWarp: one line naming the package, before any work

        let work = try WorkDirectory.createPrivate(in: workDirectory, prefix: "stack")
        defer { try? FileManager.default.removeItem(at: work) }

        let writer = try StackProductWriter(image: product, confidence: confidence)
        defer { writer.discard() }  // after a failure; nothing once committed

        let reference = frames[0]
        let primary = try primaryHeader(kind, frames)
        try writer.writePrimaries(primary)

        // Each detector's copies run while SWarp co-adds the one before, and its extension is
        // written while SWarp co-adds the one after (in HDU order, one at a time). Copies with
        // SWarp idle use every core. Results are taken in the order a detector-by-detector run
        // meets them, so a failure throws what it threw; every piece of work is awaited before
        // anything is thrown, so the deferred clean-up finds nothing still running.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let shared = SharedWriter(writer)
        var extensions: [StackProduct.Extension] = []
        switch kind {
        case .stack:
            var copied = await copyDetector(0, of: frames, in: work, jobs: cores)
            var pending: (inputs: CopiedInputs, detector: Int)?
            for k in reference.detectors.indices {
                let inputs: CopiedInputs
                switch copied {
                case .copied(let c)?:
                    inputs = c
                case .failed(let error)?:
                    if let done = await writePending(pending, to: shared, frames: frames) {
                        extensions.append(try done.get())
                    }
                    throw error
                case .cancelled?, nil:
                    if let done = await writePending(pending, to: shared, frames: frames) {
                        extensions.append(try done.get())
                    }
                    throw cancelledBeforeSwarp
                }
                async let nextCopy = copyDetector(k + 1, of: frames, in: work, jobs: 1)
                async let written = writePending(pending, to: shared, frames: frames)
                var swarpFailure: WrapperError?
                do {
                    try await runSwarp(inputs, config: config, appDriver: appDriver, timeout: timeout)
                } catch {
                    swarpFailure = error
                }
                let done = await written
                copied = await nextCopy
                if let done { extensions.append(try done.get()) }
                if let swarpFailure { throw swarpFailure }
                pending = (inputs, k)
            }
            if let done = await writePending(pending, to: shared, frames: frames) {
                extensions.append(try done.get())
            }
        default:  // .mosaic: `make` is called by addToStack and addToMosaic only
            let directory = work.appendingPathComponent("mosaic", isDirectory: true)
            let parts = frames.flatMap { frame in frame.detectors.map { (frame: frame, detector: $0) } }
            let inputs: CopiedInputs
            switch await copyInputs(parts, reference: (reference, reference.detectors[0]), into: directory,
                                    jobs: cores) {
            case .copied(let c): inputs = c
            case .failed(let error): throw error
            case .cancelled: throw cancelledBeforeSwarp
            }
            try await runSwarp(inputs, config: config, appDriver: appDriver, timeout: timeout)
            extensions.append(try await writeOutput(inputs, to: shared, kind: kind, frames: frames,
                                                    detectorIndex: nil, hdu: 2).get())
        }
        try writer.commit()
        return StackProduct(
            kind: kind, image: product, confidence: confidence, inputs: frames.map(\.image),
            filter: reference.filter, exposures: frames.reduce(0) { $0 + $1.exposures },
            expTime: reference.expTime, totalExposure: frames.reduce(0) { $0 + $1.totalExposure },
            mjdObs: frames.map(\.mjdObs).min() ?? reference.mjdObs,
            mjdEnd: frames.map(\.mjdEnd).max() ?? reference.mjdEnd, extensions: extensions)
    }

    private static func validate(_ kind: StackProduct.Kind, _ frames: [StackInput], _ product: URL,
                                 _ confidence: URL) throws(WrapperError) {
        guard let reference = frames.first else {
            throw WrapperError(.wrongContents, file: product.path, "no input frames to \(kind == .stack ? "stack" : "mosaic")")
        }
        let outputs = [product.standardizedFileURL.path, confidence.standardizedFileURL.path]
        guard outputs[0] != outputs[1] else {
            throw WrapperError(.writeFailed, file: product.path, "the product and its confidence map are the same file")
        }
        for frame in frames {
            for file in [frame.image, frame.confidence] where outputs.contains(file.standardizedFileURL.path) {
                throw WrapperError(.writeFailed, file: file.path, "an input would be overwritten by the product")
            }
            guard frame.filter == reference.filter else {
                throw WrapperError(.wrongContents, file: frame.image.path,
                                   "filter \(frame.filter) differs from \(reference.filter) of \(reference.image.lastPathComponent)")
            }
            guard kind == .stack else { continue }
            guard frame.detectors.count == reference.detectors.count else {
                throw WrapperError(.wrongContents, file: frame.image.path,
                                   "\(frame.detectors.count) image extensions where \(reference.image.lastPathComponent) has \(reference.detectors.count)")
            }
            for (a, b) in zip(frame.detectors, reference.detectors) where a.camNum != b.camNum {
                throw WrapperError(.wrongContents, file: frame.image.path,
                                   "HDU \(a.hdu) is camera \(a.camNum.map(String.init) ?? "?") where \(reference.image.lastPathComponent) has \(b.camNum.map(String.init) ?? "?")")
            }
        }
    }

    /// What SWarp made of one set of extensions.
    struct Coadd {
        var width: Int
        var height: Int
        var pixels: [Float]
        var weights: [Float]
        /// SWarp's output header (its WCS).
        var header: FITSHeader
        /// The reference extension's image and confidence headers.
        var referenceHeader: FITSHeader
        var referenceConfidenceHeader: FITSHeader
        /// SEEING of the extensions that went in.
        var seeing: [Double]
    }

    static func unreadable(_ path: String, _ error: any Error) -> WrapperError {
        if let e = error as? FITSError {
            let place = e.hdu.map { "HDU \($0): " } ?? ""
            return WrapperError(.unreadable, file: path, "\(place)\(e.operation) failed: \(e.message)")
        }
        return WrapperError(.unreadable, file: path, "\(error)")
    }

    // MARK: - Headers

    /// The reference frame's primary header with what went in.
    private static func primaryHeader(_ kind: StackProduct.Kind, _ frames: [StackInput]) throws(WrapperError) -> FITSHeader {
        let reference = frames[0]
        var source = FITSHeader()
        do {
            let file = try FITSFile.open(reference.image.path)
            defer { try? file.close() }
            try file.moveTo(hdu: 1)
            source = try file.header()
        } catch {
            throw unreadable(reference.image.path, error)
        }
        var header = StackHeaderCards.copyable(source, dropWCS: false)
        let last = frames.max { $0.mjdEnd < $1.mjdEnd } ?? reference
        var lastHeader: FITSHeader?
        if last.image != reference.image {
            do {
                let file = try FITSFile.open(last.image.path)
                defer { try? file.close() }
                try file.moveTo(hdu: 1)
                lastHeader = try file.header()
            } catch {
                throw unreadable(last.image.path, error)
            }
        }
        StackHeaderCards.describe(&header, kind: kind, frames: frames, endHeader: lastHeader ?? source)
        for (i, frame) in frames.enumerated() {
            header.append(FITSCard(String(format: "PROV%04d", i + 1), .string(frame.image.lastPathComponent),
                                   comment: "Input frame \(i + 1)"))
        }
        return header
    }
}
