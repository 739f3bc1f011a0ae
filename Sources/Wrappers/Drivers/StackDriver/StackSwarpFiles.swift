import FITS
import Foundation
import AppDriver

/// The plain FITS files SWarp reads and writes.
enum StackSwarpFiles {
    static func weightName(_ name: String) -> String {
        String(name.dropLast(".fits".count)) + ".weight.fits"
    }

    /// Writes HDU `hdu` of the frame (float32, its header and FLXSCALE) and of its confidence map
    /// (float32) as single-HDU files; returns the two source headers.
    static func writeInput(_ frame: StackInput, hdu: Int, scale: Double, image: URL, weight: URL)
        throws(WrapperError) -> (FITSHeader, FITSHeader) {
        let (imageHeader, pixels, dims) = try read(frame.image.path, hdu: hdu)
        let (confHeader, conf, confDims) = try read(frame.confidence.path, hdu: hdu)
        guard dims == confDims else {
            throw WrapperError(.wrongContents, file: frame.confidence.path,
                               "HDU \(hdu): \(confDims) pixels where \(frame.image.lastPathComponent) has \(dims)")
        }
        var header = StackHeaderCards.copyable(imageHeader, dropWCS: false)
        header.set("FLXSCALE", .double(scale), comment: "Flux scale to the reference zero point")
        try write(image.path, header: header, pixels: pixels, dims: dims, source: frame.image.path)
        try write(weight.path, header: FITSHeader(), pixels: conf, dims: dims, source: frame.confidence.path)
        return (imageHeader, confHeader)
    }

    private static func read(_ path: String, hdu: Int) throws(WrapperError) -> (FITSHeader, [Float], [Int]) {
        do {
            let file = try FITSFile.open(path)
            defer { try? file.close() }
            try file.moveTo(hdu: hdu)
            let (_, dims) = try file.imageShape()
            return (try file.header(), try file.readPixels(as: Float.self), dims)
        } catch {
            throw StackDriver.unreadable(path, error)
        }
    }

    private static func write(_ path: String, header: FITSHeader, pixels: [Float], dims: [Int], source: String) throws(WrapperError) {
        guard dims.count == 2 else {
            throw WrapperError(.wrongContents, file: path, "not a two-dimensional image (axes \(dims))")
        }
        try PlainCopy.write(pixels, width: dims[0], height: dims[1], header: header, to: URL(fileURLWithPath: path),
                            source: source)
    }

    /// Runs SWarp (through `appDriver`, as ``StackDriver/tool``) in `directory` on `input` (a
    /// file name there, or `@LIST`) with the configuration file `config`, writing `output` and its
    /// weight map (``weightName(_:)``) there, and reads them.
    static func run(_ input: String, config: URL, output: String, in directory: URL, appDriver: AppDriver,
                    timeout: Duration?) async throws(WrapperError) -> StackDriver.Coadd {
        try await swarp(input, config: config, output: output, in: directory, appDriver: appDriver, timeout: timeout)
        return try readOutput(output, in: directory)
    }

    /// Only SWarp's run of ``run(_:config:output:in:appDriver:timeout:)`` (its exit status
    /// checked); ``readOutput(_:in:)`` reads what it wrote.
    static func swarp(_ input: String, config: URL, output: String, in directory: URL, appDriver: AppDriver,
                      timeout: Duration?) async throws(WrapperError) {
        let result = try await appDriver.run(
            StackDriver.tool, arguments: [input, "-c", config.path,
                                          "-IMAGEOUT_NAME", output, "-WEIGHTOUT_NAME", weightName(output),
                                          "-RESAMPLE_DIR", ".", "-VMEM_DIR", "."],
            workingDirectory: directory.path, timeout: timeout)
        try result.checkSuccess()
    }

    /// SWarp's co-added image `output` in `directory` and its weight map.
    static func readOutput(_ output: String, in directory: URL) throws(WrapperError) -> StackDriver.Coadd {
        try readOutput(image: directory.appendingPathComponent(output),
                       weight: directory.appendingPathComponent(weightName(output)))
    }

    /// SWarp's co-added image and weight map.
    private static func readOutput(image: URL, weight: URL) throws(WrapperError) -> StackDriver.Coadd {
        for url in [image, weight] where !FileManager.default.fileExists(atPath: url.path) {
            throw WrapperError(.failed, tool: StackDriver.tool, "SWarp exited 0 but wrote no \(url.lastPathComponent)")
        }
        do {
            let file = try FITSFile.open(image.path)
            defer { try? file.close() }
            let (_, dims) = try file.imageShape()
            guard dims.count == 2 else {
                throw WrapperError(.failed, tool: StackDriver.tool, "SWarp wrote a \(dims.count)-dimensional image")
            }
            let header = try file.header()
            let pixels = try file.readPixels(as: Float.self)
            let w = try FITSFile.open(weight.path)
            defer { try? w.close() }
            guard try w.imageShape().dimensions == dims else {
                throw WrapperError(.failed, tool: StackDriver.tool, "SWarp's weight map does not match its image")
            }
            let weights = try w.readPixels(as: Float.self)
            return StackDriver.Coadd(width: dims[0], height: dims[1], pixels: pixels, weights: weights,
                                     header: header, referenceHeader: FITSHeader(),
                                     referenceConfidenceHeader: FITSHeader(), seeing: [])
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.failed, tool: StackDriver.tool, "cannot read SWarp's output \(image.lastPathComponent): \(error)")
        }
    }
}
