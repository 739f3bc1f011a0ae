import FITS
import Foundation
import AppDriver

/// Resamples one K detector onto an H2 detector's pixel grid with SWarp (`diff.swarp`).
enum DiffResampling {
    /// K on the H2 grid.
    struct Resampled {
        /// Counts per K exposure, on the H2 grid (0 where there is no coverage).
        var pixels: [Float]
        /// K's confidence on the H2 grid (0 where there is no coverage).
        var weights: [Float]
        /// K's SEEING keyword (K pixels), and arcseconds per pixel of the K detector.
        var seeing: Double?
        var pixelScale: Double
    }

    /// The output header SWarp takes as its grid (`OUTPUT.head`): NAXIS1, NAXIS2 and the
    /// celestial WCS cards of `header`, one card per line, then END.
    static func gridHeader(_ header: FITSHeader, width: Int, height: Int) -> String {
        var cards = FITSHeader([FITSCard("NAXIS", .int(2)), FITSCard("NAXIS1", .int(width)),
                                FITSCard("NAXIS2", .int(height))])
        cards.cards += header.cards.filter { $0.value != nil && StackHeaderCards.isWCS($0.keyword) }
        let records = Array(cards.renderedRecords())
        var lines: [String] = []
        var start = 0
        while start < records.count {
            let end = min(records.count, start + 80)
            lines.append(String(records[start..<end]))
            start = end
        }
        lines.append("END" + String(repeating: " ", count: 77))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Copies HDU `hdu` of `k` and its confidence map to plain FITS in `directory`, writes the
    /// grid header of the H2 extension, runs SWarp and reads what it made.
    static func resample(_ k: StackInput, hdu: Int, ontoGridOf h2Header: FITSHeader, width: Int, height: Int,
                         in directory: URL, config: URL, appDriver: AppDriver,
                         timeout: Duration?) async throws(WrapperError) -> Resampled {
        try WorkDirectory.create(directory)
        let copy = try PlainCopy.image(k.image.path, hdu: hdu, to: directory.appendingPathComponent("k.fits"))
        try PlainCopy.weight(k.confidence.path, hdu: hdu, matching: copy,
                             to: directory.appendingPathComponent("k.weight.fits"))
        let head = directory.appendingPathComponent("resampled.head")
        do {
            try Data(gridHeader(h2Header, width: width, height: height).utf8).write(to: head)
        } catch {
            throw WrapperError(.writeFailed, file: head.path, "cannot write the SWarp output header: \(error.localizedDescription)")
        }
        let output = try await StackSwarpFiles.run("k.fits", config: config, output: "resampled.fits", in: directory,
                                                   appDriver: appDriver, timeout: timeout)
        guard output.width == width, output.height == height else {
            throw WrapperError(.failed, tool: DiaDriver.tool,
                               "SWarp made a \(output.width)×\(output.height) image, not the \(width)×\(height) grid of resampled.head")
        }
        return Resampled(pixels: output.pixels, weights: output.weights, seeing: copy.seeingPixels,
                         pixelScale: copy.pixelScale)
    }
}
