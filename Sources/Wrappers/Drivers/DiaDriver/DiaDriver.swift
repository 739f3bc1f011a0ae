import FITS
public import Foundation
public import AppDriver
import WrapperCore

/// Continuum-subtracted difference images of CU5 (seed 004 §6: `makeDiffImage`): an H2 frame
/// minus the scaled K frame of the same field, detector by detector, so that stars (whose H2 and
/// K magnitudes agree) cancel and line emission (H2 knots of outflows) stands out.
///
/// For every image extension of the H2 frame:
///
/// 1. **Grid.** The K frame's same detector (same HDU and CAMNUM) is resampled by SWarp
///    (Debian `swarp`, program `SWarp`, through ``AppDriver``, configuration
///    `Resources/swarp/diff.swarp`, Lanczos-3) onto the H2 extension's own pixel grid: SWarp's
///    output header (`.head`) carries the H2 extension's size and WCS unchanged — CASU's ZPN with
///    its PV2_n terms, which SWarp projects onto directly — so the H2 pixels are never
///    resampled and the product keeps the H2 WCS. K's confidence map is SWarp's weight map and is
///    resampled with it (0 where K has no coverage).
/// 2. **Background.** Each image's background is removed the same way (a mesh of ~64 pixels,
///    clipped mode per mesh, 3×3 median filter, bilinear map; see ``DiffImaging``), as the sky
///    level differs between the bands.
/// 3. **Scale.** K is multiplied by KSCALE = (t_H2 / t_K) · 10^(0.4 (Z_H2 − Z_K)),
///    Z = MAGZPT − EXTINCT·(airmass − 1) of that detector (``StackInput/Detector/zeroPoint(airmass:)``),
///    so a source of equal H2 and K magnitude cancels.
/// 4. **PSF matching.** With σ = FWHM / 2.3548 from each frame's SEEING (pixels; K's converted to
///    H2 pixels; measured on the image when the keyword is absent), the sharper image is convolved
///    with a Gaussian of σ = √(σ_broad² − σ_sharp²) (normalised over live pixels, so dead pixels
///    do not bleed). The seeing is Moffat-like, so this Gaussian match leaves stars a residual of
///    about a per cent of their flux in an aperture of 2–3 FWHM.
/// 5. **Difference** = H2 − KSCALE · K_matched, in H2's units (counts per H2 exposure) with H2's
///    MAGZPT; 0 where the confidence is 0.
/// 6. **Confidence** (int16): inverse variance of the difference, normalised to a median of 100
///    over live pixels: 1/V with V = σ_H2² · m_H2 / c_H2 + KSCALE² · σ_K² · m_K / c_K (σ each
///    image's measured pixel noise as subtracted, c its confidence on the H2 grid, m the median
///    of c); 0 where either confidence is 0 (dead in either frame, or no K coverage).
///
/// The product is a MEF with an empty primary (the H2 primary header, FILTER 'H2', plus DIFFIMG
/// = 'H2-K', IMAGE_A / IMAGE_B, CONF_A / CONF_B, mean KSCALE, PSFSIGMA, PSFIMAGE and MAGZPT,
/// PROV0001/2) and one float32 image extension per detector (the H2 extension's header and WCS,
/// with KSCALE, PSFSIGMA, PSFIMAGE, SEEING, SEEING_A/B, SKYLEVEL, SKYNOISE, CIR_CPM); the
/// confidence map has the same layout. Both carry CHECKSUM/DATASUM and are written under hidden
/// temporary names beside their targets, renamed only when both are complete: a failure (SWarp's
/// exit status, a crash, a bad input, cancellation) leaves neither behind, and the private work
/// directory is removed. A caller that renames only after its database rows commit passes
/// `NAME.part` paths: the headers then name the final files (CIR_CPM drops a trailing `.part`).
///
/// The call blocks the calling thread while it reads, computes and writes; SWarp runs without
/// blocking it.
public enum DiaDriver {
    /// H2 − scaled K of one field, detector by detector.
    ///
    /// - Parameters:
    ///   - h2: the H2 frame (FILTER 'H2'); the product is on its pixel grid.
    ///   - k: the K frame of the same field (FILTER 'K'), with the same detectors in the same HDUs.
    ///   - product: the difference MEF to write (replaced if it exists).
    ///   - confidence: its confidence map.
    ///   - workDirectory: where SWarp's inputs and outputs go (a private directory inside it is
    ///     made and removed).
    ///   - timeout: limit for each SWarp run.
    /// - Throws: `unreadable`/`missingKeyword`/`wrongContents`/`noWCS` for bad inputs (naming the
    ///   file: a truncated file, another filter, detectors that do not match, no overlap),
    ///   AppDriver's `toolMissing`, `failed`, `signalled`, `timedOut`, `cancelled` for SWarp,
    ///   `writeFailed` when the product cannot be written.
    public static func makeDiffImage(h2: StackInput, k: StackInput, to product: URL, confidence: URL,
                                     appDriver: AppDriver, workDirectory: URL,
                                     timeout: Duration? = nil) async throws(WrapperError) -> DiffProduct {
        try validate(h2, k, product, confidence)
        let config = try configurationFile()
        _ = try appDriver.locate(tool)  // a missing SWarp: one line naming the package, before any work

        let work = try WorkDirectory.createPrivate(in: workDirectory, prefix: "diff")
        defer { try? FileManager.default.removeItem(at: work) }

        let files = try ProductFiles(image: product, confidence: confidence)
        defer { files.discard() }  // after a failure; nothing once committed

        let h2Primary = try readPrimary(h2.image)
        // Provisional values now, the means over the detectors at the end: the same cards, so
        // the header does not grow.
        try files.writePrimaries(DiffHeaderCards.primary(h2Primary: h2Primary, h2: h2, k: k, extensions: []))

        var extensions: [DiffProduct.Extension] = []
        for (index, detector) in h2.detectors.enumerated() {
            if Task.isCancelled {
                throw WrapperError(.cancelled, tool: tool, "the difference image was cancelled")
            }
            let directory = work.appendingPathComponent("detector\(index + 1)", isDirectory: true)
            let ext = try await difference(h2: h2, detector: detector, k: k, kDetector: k.detectors[index],
                                           files: files, directory: directory, config: config,
                                           appDriver: appDriver, timeout: timeout)
            extensions.append(ext)
            try? FileManager.default.removeItem(at: directory)
        }
        try files.updatePrimaries(DiffHeaderCards.primary(h2Primary: h2Primary, h2: h2, k: k, extensions: extensions))
        try files.commit()
        return DiffProduct(image: product, confidence: confidence, h2: h2.image, k: k.image,
                           expTime: h2.expTime, extensions: extensions)
    }

    /// KSCALE of one detector: (t_H2 / t_K) · 10^(0.4 (Z_H2 − Z_K)), Z the zero point at each
    /// frame's airmass.
    public static func kScale(h2: StackInput, _ h2Detector: StackInput.Detector,
                              k: StackInput, _ kDetector: StackInput.Detector) -> Double {
        let zH2 = h2Detector.zeroPoint(airmass: h2.airmass), zK = kDetector.zeroPoint(airmass: k.airmass)
        return h2.expTime / k.expTime * pow(10, 0.4 * (zH2 - zK))
    }

    /// The SWarp configuration file (`Resources/swarp/diff.swarp`, see ``ToolResources``).
    public static func configurationFile() throws(WrapperError) -> URL {
        let url = try ToolResources.directory("swarp").appendingPathComponent("diff.swarp")
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw WrapperError(.configuration, file: url.path, "SWarp configuration file is missing")
        }
        return url
    }

    /// The name SWarp is run under (the `[tools]` key is `swarp`).
    public static let tool = "SWarp"

    // MARK: - The work

    private static func validate(_ h2: StackInput, _ k: StackInput, _ product: URL,
                                 _ confidence: URL) throws(WrapperError) {
        let outputs = [product.standardizedFileURL.path, confidence.standardizedFileURL.path]
        guard outputs[0] != outputs[1] else {
            throw WrapperError(.writeFailed, file: product.path, "the product and its confidence map are the same file")
        }
        for file in [h2.image, h2.confidence, k.image, k.confidence] where outputs.contains(file.standardizedFileURL.path) {
            throw WrapperError(.writeFailed, file: file.path, "an input would be overwritten by the product")
        }
        guard h2.image.standardizedFileURL.path != k.image.standardizedFileURL.path else {
            throw WrapperError(.wrongContents, file: k.image.path, "the same file is given as the H2 and the K frame")
        }
        guard h2.filter.uppercased() == "H2" else {
            throw WrapperError(.wrongContents, file: h2.image.path, "FILTER is \(h2.filter), not H2")
        }
        guard k.filter.uppercased() == "K" else {
            throw WrapperError(.wrongContents, file: k.image.path, "FILTER is \(k.filter), not K")
        }
        guard k.detectors.count == h2.detectors.count else {
            throw WrapperError(.wrongContents, file: k.image.path,
                               "\(k.detectors.count) image extensions where \(h2.image.lastPathComponent) has \(h2.detectors.count)")
        }
        for (a, b) in zip(k.detectors, h2.detectors) where a.hdu != b.hdu || a.camNum != b.camNum {
            throw WrapperError(.wrongContents, file: k.image.path,
                               "HDU \(a.hdu) is camera \(a.camNum.map(String.init) ?? "?") where \(h2.image.lastPathComponent) has camera \(b.camNum.map(String.init) ?? "?") in HDU \(b.hdu)")
        }
    }

    /// One detector: resample K, remove backgrounds, match PSFs, subtract, write.
    private static func difference(h2: StackInput, detector: StackInput.Detector, k: StackInput,
                                   kDetector: StackInput.Detector, files: ProductFiles,
                                   directory: URL, config: URL, appDriver: AppDriver,
                                   timeout: Duration?) async throws(WrapperError) -> DiffProduct.Extension {
        let hdu = detector.hdu
        let image = try readDetector(h2, hdu: hdu)
        let (width, height) = (image.width, image.height)
        let h2Scale: Double
        do {
            let wcs = try WCS(header: image.header, source: h2.image.path)
            h2Scale = try PlainCopy.pixelScale(wcs, width: width, height: height)
        } catch {
            throw WrapperError(.noWCS, file: h2.image.path, "HDU \(hdu) has no usable celestial WCS: \(error)")
        }
        let resampled = try await DiffResampling.resample(k, hdu: kDetector.hdu, ontoGridOf: image.header,
                                                          width: width, height: height, in: directory,
                                                          config: config, appDriver: appDriver, timeout: timeout)
        guard resampled.weights.contains(where: { $0 > 0 }) else {
            throw WrapperError(.wrongContents, file: k.image.path,
                               "HDU \(kDetector.hdu) does not overlap HDU \(hdu) of \(h2.image.lastPathComponent)")
        }
        let wA = image.confidence, wB = resampled.weights

        // Backgrounds.
        let skyA = DiffImaging.background(image.pixels, weights: wA, width: width, height: height)
        let skyB = DiffImaging.background(resampled.pixels, weights: wB, width: width, height: height)
        var a = zip(image.pixels, skyA).map { $0 - $1 }
        var b = zip(resampled.pixels, skyB).map { $0 - $1 }

        // Seeing (H2 pixels) and PSF matching.
        func measured(_ pixels: [Float], _ weights: [Float], _ file: URL) throws(WrapperError) -> Double {
            let noise = DiffImaging.robustSigma(pixels, weights: weights)
            guard let fwhm = DiffImaging.measureFWHM(pixels, weights: weights, width: width, height: height, noise: noise)
            else {
                throw WrapperError(.missingKeyword, file: file.path,
                                   "HDU \(hdu): keyword SEEING is missing and too few stars to measure it")
            }
            return fwhm
        }
        let seeingA: Double, seeingB: Double
        if let seeing = detector.seeing { seeingA = seeing } else { seeingA = try measured(a, wA, h2.image) }
        if let seeing = kDetector.seeing {
            seeingB = seeing * resampled.pixelScale / h2Scale
        } else {
            seeingB = try measured(b, wB, k.image)
        }
        let (sigma, smoothed) = DiffImaging.matchingKernel(h2: seeingA, k: seeingB)
        switch smoothed {
        case .h2: a = DiffImaging.convolve(a, weights: wA, width: width, height: height, sigma: sigma)
        case .k: b = DiffImaging.convolve(b, weights: wB, width: width, height: height, sigma: sigma)
        case .none: break
        }

        // Difference and confidence.
        let scale = kScale(h2: h2, detector, k: k, kDetector)
        let conf = DiffImaging.confidence(h2: wA, noiseH2: DiffImaging.robustSigma(a, weights: wA),
                                          k: wB, noiseK: DiffImaging.robustSigma(b, weights: wB), scale: scale)
        let factor = Float(scale)
        var pixels = [Float](repeating: 0, count: a.count)
        for i in pixels.indices where conf[i] > 0 {
            pixels[i] = a[i] - factor * b[i]
        }
        let (level, noise) = RobustStatistics.skyStatistics(pixels, confidence: conf)
        let ext = DiffProduct.Extension(hdu: hdu, camNum: detector.camNum, width: width, height: height,
                                        magZpt: detector.magZpt, kScale: scale, psfSigma: sigma,
                                        smoothed: smoothed, seeingH2: seeingA, seeingK: seeingB,
                                        skyLevel: level, skyNoise: noise)
        try files.append(pixels: pixels,
                          header: DiffHeaderCards.image(h2Header: image.header, ext: ext,
                                                        confidenceName: files.confidenceName, k: k),
                          confidence: conf,
                          confidenceHeader: DiffHeaderCards.confidence(h2ConfidenceHeader: image.confidenceHeader,
                                                                       h2Header: image.header),
                          width: width, height: height, hdu: hdu)
        return ext
    }

    /// One H2 extension and its confidence map, as read.
    struct Detector {
        var width: Int
        var height: Int
        var header: FITSHeader
        var pixels: [Float]
        var confidenceHeader: FITSHeader
        var confidence: [Float]
    }

    static func readDetector(_ frame: StackInput, hdu: Int) throws(WrapperError) -> Detector {
        func read(_ path: String) throws(WrapperError) -> (FITSHeader, [Float], [Int]) {
            let file = try PlainCopy.open(path, hdu: hdu)
            defer { try? file.close() }
            do {
                let dims = try file.imageShape().dimensions
                guard dims.count == 2, dims[0] > 0, dims[1] > 0 else {
                    throw WrapperError(.wrongContents, file: path, "HDU \(hdu) is not a two-dimensional image (axes \(dims))")
                }
                return (try file.header(), try file.readPixels(as: Float.self), dims)
            } catch let e as WrapperError {
                throw e
            } catch {
                throw FitsReader.unreadable(path, error)
            }
        }
        let (header, pixels, dims) = try read(frame.image.path)
        let (confHeader, conf, confDims) = try read(frame.confidence.path)
        guard dims == confDims else {
            throw WrapperError(.wrongContents, file: frame.confidence.path,
                               "HDU \(hdu): \(confDims) pixels where \(frame.image.lastPathComponent) has \(dims)")
        }
        return Detector(width: dims[0], height: dims[1], header: header, pixels: pixels,
                        confidenceHeader: confHeader, confidence: conf)
    }

    static func readPrimary(_ url: URL) throws(WrapperError) -> FITSHeader {
        do {
            let file = try FITSFile.open(url.path)
            defer { try? file.close() }
            try file.moveTo(hdu: 1)
            return try file.header()
        } catch {
            throw FitsReader.unreadable(url.path, error)
        }
    }
}
