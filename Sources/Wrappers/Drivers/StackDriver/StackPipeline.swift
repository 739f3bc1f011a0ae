import WrapperCore
import Curation
import FITS
import Foundation
import AppDriver
import SystemSupport

/// The blocking halves of a co-add — the plain copies SWarp reads, and reading SWarp's output
/// into the product — run on threads of their own (``parallelMap``, never Swift's cooperative
/// pool), so that ``StackDriver`` copies detector k+1's inputs and writes detector k−1's
/// extension while SWarp co-adds detector k. Every FITS call here goes through
/// ``CFITSIO/serialised(_:)``, so a cfitsio that is not reentrant is used by one thread at a time.
extension StackDriver {
    typealias Part = (frame: StackInput, detector: StackInput.Detector)

    /// The plain copies of one detector's extensions (or of all, for a mosaic) and their list
    /// `inputs.lis` in `directory`, ready for SWarp.
    struct CopiedInputs: Sendable {
        var directory: URL
        /// The reference extension's image and confidence headers.
        var referenceHeaders: (FITSHeader, FITSHeader)?
        /// SEEING of the extensions that went in.
        var seeing: [Double]
    }

    enum CopyOutcome: Sendable {
        case copied(CopiedInputs)
        /// The first failure in the order the copies are listed (the one a copy after another
        /// would have met first).
        case failed(WrapperError)
        /// The calling task was cancelled before every copy was made.
        case cancelled
    }

    /// The product writer, used by one thread at a time: each extension is written only after
    /// the previous one is (the pipeline awaits it), and nothing else touches it meanwhile.
    final class SharedWriter: @unchecked Sendable {
        let writer: StackProductWriter
        init(_ writer: StackProductWriter) { self.writer = writer }
    }

    /// Copies `parts` (with FLXSCALE relative to `reference`) into `directory`, `jobs` at a time.
    /// After the first failure, or the task's cancellation, no further copy starts.
    static func copyInputs(_ parts: [Part], reference: Part, into directory: URL,
                           jobs: Int) async -> CopyOutcome {
        do {
            try WorkDirectory.create(directory)
        } catch {
            return .failed(error)
        }
        let zeroPoint = reference.detector.zeroPoint(airmass: reference.frame.airmass)
        let stop = Locked(false)  // set once: the copies still to start are not made
        let items = parts.enumerated().map { (index: $0.offset, part: $0.element) }
        let results = await withTaskCancellationHandler {
            await parallelMap(items, jobs: jobs) { item throws -> (FITSHeader, FITSHeader)? in
                guard !stop.withLock({ $0 }) else { return nil }
                let part = item.part
                let name = inputName(item.index)
                let z = part.detector.zeroPoint(airmass: part.frame.airmass)
                let scale = reference.frame.expTime / part.frame.expTime * pow(10, 0.4 * (zeroPoint - z))
                do {
                    return try FITSThreads.serialised {
                        try StackSwarpFiles.writeInput(part.frame, hdu: part.detector.hdu, scale: scale,
                                                       image: directory.appendingPathComponent(name),
                                                       weight: directory.appendingPathComponent(StackSwarpFiles.weightName(name)))
                    }
                } catch {
                    stop.withLock { $0 = true }
                    throw error
                }
            }
        } onCancel: {
            stop.withLock { $0 = true }
        }
        // Copies are claimed in order, so none after a failure was skipped for it and the first
        // failure listed is the first a one-by-one copy would meet.
        var referenceHeaders: (FITSHeader, FITSHeader)?
        var stopped = false
        for (item, result) in zip(items, results) {
            switch result {
            case .failure(let error as WrapperError):
                return .failed(error)
            case .failure(let error):
                return .failed(WrapperError(.writeFailed, file: directory.path, "plain copy: \(error)"))
            case .success(nil):
                stopped = true
            case .success(let headers?):
                if item.part.frame.image == reference.frame.image && item.part.detector.hdu == reference.detector.hdu {
                    referenceHeaders = headers
                }
            }
        }
        if stopped { return .cancelled }
        let list = directory.appendingPathComponent("inputs.lis")
        do {
            try Data((items.map { inputName($0.index) }.joined(separator: "\n") + "\n").utf8).write(to: list)
        } catch {
            return .failed(WrapperError(.writeFailed, file: list.path,
                                        "cannot write the SWarp input list: \(error.localizedDescription)"))
        }
        return .copied(CopiedInputs(directory: directory, referenceHeaders: referenceHeaders,
                                    seeing: parts.compactMap(\.detector.seeing)))
    }

    private static func inputName(_ index: Int) -> String { String(format: "in%05d.fits", index + 1) }

    /// SWarp on copied inputs (exit status checked); writes `coadd.fits` beside them.
    static func runSwarp(_ inputs: CopiedInputs, config: URL, appDriver: AppDriver,
                         timeout: Duration?) async throws(WrapperError) {
        try await StackSwarpFiles.swarp("@inputs.lis", config: config, output: "coadd.fits", in: inputs.directory,
                                        appDriver: appDriver, timeout: timeout)
    }

    /// Reads SWarp's output for `inputs` and appends it to the product as HDU `hdu` (on a thread
    /// of its own); removes the inputs' directory once written.
    static func writeOutput(_ inputs: CopiedInputs, to writer: SharedWriter, kind: StackProduct.Kind,
                            frames: [StackInput], detectorIndex: Int?,
                            hdu: Int) async -> Result<StackProduct.Extension, WrapperError> {
        let result = await parallelMap([inputs], jobs: 1) { inputs throws -> StackProduct.Extension in
            let written = try FITSThreads.serialised {
                var coadd = try StackSwarpFiles.readOutput("coadd.fits", in: inputs.directory)
                coadd.referenceHeader = inputs.referenceHeaders?.0 ?? FITSHeader()
                coadd.referenceConfidenceHeader = inputs.referenceHeaders?.1 ?? FITSHeader()
                coadd.seeing = inputs.seeing
                return try writer.writer.append(coadd, kind: kind, frames: frames, detectorIndex: detectorIndex,
                                                hdu: hdu)
            }
            try? FileManager.default.removeItem(at: inputs.directory)
            return written
        }[0]
        return result.mapError {
            $0 as? WrapperError ?? WrapperError(.writeFailed, file: writer.writer.files.image.path, "\($0)")
        }
    }

    /// `writeOutput` of the detector waiting for it, if any.
    static func writePending(_ pending: (inputs: CopiedInputs, detector: Int)?, to writer: SharedWriter,
                             frames: [StackInput]) async -> Result<StackProduct.Extension, WrapperError>? {
        guard let pending else { return nil }
        return await writeOutput(pending.inputs, to: writer, kind: .stack, frames: frames,
                                 detectorIndex: pending.detector, hdu: pending.detector + 2)
    }

    /// `copyInputs` of detector `k` of every frame, if there is one.
    static func copyDetector(_ k: Int, of frames: [StackInput], in work: URL, jobs: Int) async -> CopyOutcome? {
        let reference = frames[0]
        guard reference.detectors.indices.contains(k) else { return nil }
        return await copyInputs(frames.map { (frame: $0, detector: $0.detectors[k]) },
                                reference: (reference, reference.detectors[k]),
                                into: work.appendingPathComponent("detector\(k + 1)", isDirectory: true), jobs: jobs)
    }

    /// The error of copies stopped by cancellation: what SWarp's run said when the task was
    /// cancelled before it started.
    static var cancelledBeforeSwarp: WrapperError {
        WrapperError(.cancelled, tool: tool, "\(tool) cancelled before it started")
    }
}
