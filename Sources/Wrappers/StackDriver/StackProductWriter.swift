import FITS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a product and its confidence map under temporary names beside their final paths;
/// ``commit()`` renames both, ``discard()`` removes them.
final class StackProductWriter {
    let image: URL
    let confidence: URL
    let temporaryImage: URL
    let temporaryConfidence: URL
    /// The confidence map's file name as the headers give it (without a trailing `.part`).
    let confidenceName: String
    private var imageFile: FITSFile?
    private var confidenceFile: FITSFile?
    private var primaryHeader = FITSHeader()

    /// Keywords of one detector that mean nothing on a mosaic (or are measured again).
    static let detectorKeywords: Set<String> = ["CAMNUM", "DETECTID", "CNFINDEX", "DROWS", "DCOLUMNS", "DET_TEMP"]
    static let remeasured: Set<String> = ["SKYLEVEL", "SKYNOISE", "ELLIPTIC", "SEEING", "CIR_CPM"]

    init(image: URL, confidence: URL) throws(WrapperError) {
        self.image = image
        self.confidence = confidence
        let tag = UUID().uuidString.prefix(8)
        temporaryImage = image.deletingLastPathComponent()
            .appendingPathComponent(".\(image.lastPathComponent).\(tag).tmp")
        temporaryConfidence = confidence.deletingLastPathComponent()
            .appendingPathComponent(".\(confidence.lastPathComponent).\(tag).tmp")
        var name = confidence.lastPathComponent
        if name.hasSuffix(".part") { name = String(name.dropLast(".part".count)) }
        confidenceName = name
        for directory in Set([image.deletingLastPathComponent(), confidence.deletingLastPathComponent()]) {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw WrapperError(.writeFailed, file: image.path,
                                   "cannot make the directory \(directory.path): \(error.localizedDescription)")
            }
        }
        do {
            imageFile = try FITSFile.create(temporaryImage.path, overwrite: true)
            confidenceFile = try FITSFile.create(temporaryConfidence.path, overwrite: true)
        } catch {
            discard()
            throw WrapperError(.writeFailed, file: image.path, "cannot create the product: \(error)")
        }
    }

    private func files() throws(WrapperError) -> (FITSFile, FITSFile) {
        guard let imageFile, let confidenceFile else {
            throw WrapperError(.writeFailed, file: image.path, "the product is already closed")
        }
        return (imageFile, confidenceFile)
    }

    /// The data-less primary HDU of both files.
    func writePrimaries(_ header: FITSHeader) throws(WrapperError) {
        let (a, b) = try files()
        primaryHeader = header
        for (file, url) in [(a, image), (b, confidence)] {
            do {
                try file.createImage(bitpix: .uint8, dimensions: [])
                try file.setKeys(header)
                try file.writeChecksum()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot write the primary header: \(error)")
            }
        }
    }

    /// One image extension (float32) and its confidence extension (int16, median 100 on pixels
    /// with weight).
    func append(_ coadd: StackDriver.Coadd, kind: StackProduct.Kind, frames: [StackInput],
                detectorIndex: Int?, hdu: Int) throws(WrapperError) -> StackProduct.Extension {
        let (imageFile, confidenceFile) = try files()
        let conf = Self.confidence(coadd.weights)
        let (level, noise) = Self.skyStatistics(coadd.pixels, conf)
        let reference = frames[0]
        let detector = detectorIndex.map { reference.detectors[$0] } ?? reference.detectors[0]
        let seeing = coadd.seeing.isEmpty ? nil : coadd.seeing.reduce(0, +) / Double(coadd.seeing.count)

        var drop = Self.remeasured
        if kind == .mosaic { drop.formUnion(Self.detectorKeywords) }
        let wcs = Self.wcsCards(swarp: coadd.header, reference: coadd.referenceHeader)

        var header = StackHeaderCards.copyable(coadd.referenceHeader, dropWCS: true, drop: drop)
        header.cards += wcs.cards
        StackHeaderCards.describe(&header, kind: kind, frames: frames, endHeader: FITSHeader(),
                             detectorIndex: detectorIndex)
        header.set("MAGZPT", .double(detector.magZpt), comment: "[mag] Photometric ZP for default extinction")
        header.set("SKYLEVEL", .double(Self.rounded(level)), comment: "[ADU] Median sky, after sky subtraction")
        header.set("SKYNOISE", .double(Self.rounded(noise)), comment: "[ADU] Pixel noise at sky level")
        if let seeing {
            header.set("SEEING", .double(Self.rounded(seeing)), comment: "[pixels] Mean FWHM of the inputs")
        }
        header.set("CIR_CPM", .string("\(confidenceName)[\(hdu - 1)]"), comment: "Confidence map")
        dates(&header)
        header.append(FITSCard("HISTORY", nil, comment: "SWarp weighted mean of \(frames.count) frames (\(kind.rawValue).swarp)"))

        var confHeader = StackHeaderCards.copyable(coadd.referenceConfidenceHeader, dropWCS: true, drop: drop)
        confHeader.cards += wcs.cards
        StackHeaderCards.describe(&confHeader, kind: kind, frames: frames, endHeader: FITSHeader(),
                             detectorIndex: detectorIndex)
        dates(&confHeader)

        let dims = [coadd.width, coadd.height]
        do {
            try imageFile.createImage(bitpix: .float32, dimensions: dims)
            try imageFile.setKeys(header)
            try imageFile.writePixels(coadd.pixels)
            try imageFile.writeChecksum()
        } catch {
            throw WrapperError(.writeFailed, file: image.path, "cannot write HDU \(hdu): \(error)")
        }
        do {
            try confidenceFile.createImage(bitpix: .int16, dimensions: dims)
            try confidenceFile.setKeys(confHeader)
            try confidenceFile.writePixels(conf)
            try confidenceFile.writeChecksum()
        } catch {
            throw WrapperError(.writeFailed, file: confidence.path, "cannot write HDU \(hdu): \(error)")
        }
        return StackProduct.Extension(hdu: hdu, camNum: kind == .stack ? detector.camNum : nil,
                                      width: coadd.width, height: coadd.height, magZpt: detector.magZpt,
                                      skyLevel: level, skyNoise: noise, seeing: seeing)
    }

    /// DATE-OBS and DATE-END of the primary header beside MJD-OBS and MJD-END (without them
    /// wcslib's `datfix`, and so astropy, adds them with a warning).
    private func dates(_ header: inout FITSHeader) {
        for keyword in ["DATE-OBS", "DATE-END"] {
            if let value = primaryHeader.string(keyword) {
                let comment = primaryHeader.cards.first { $0.keyword == keyword }?.comment ?? ""
                header.set(keyword, .string(value), comment: comment)
            }
        }
    }

    /// Closes both files, makes them durable and renames them to their final names.
    func commit() throws(WrapperError) {
        let (a, b) = try files()
        imageFile = nil
        confidenceFile = nil
        for (file, url) in [(a, image), (b, confidence)] {
            do {
                try file.close()
            } catch {
                throw WrapperError(.writeFailed, file: url.path, "cannot close the product: \(error)")
            }
        }
        for (temporary, url) in [(temporaryImage, image), (temporaryConfidence, confidence)] {
            if let problem = Self.sync(temporary.path) {
                throw WrapperError(.writeFailed, file: url.path, "cannot sync \(temporary.lastPathComponent): \(problem)")
            }
        }
        guard rename(temporaryConfidence.path, confidence.path) == 0 else {
            throw WrapperError(.writeFailed, file: confidence.path,
                               "cannot rename \(temporaryConfidence.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryImage.path, image.path) == 0 else {
            let problem = String(cString: strerror(errno))
            unlink(confidence.path)
            throw WrapperError(.writeFailed, file: image.path,
                               "cannot rename \(temporaryImage.lastPathComponent): \(problem)")
        }
        for directory in Set([image.deletingLastPathComponent().path, confidence.deletingLastPathComponent().path]) {
            let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                _ = fsync(fd)
                close(fd)
            }
        }
    }

    /// Closes and removes the temporary files (after a failure).
    func discard() {
        try? imageFile?.close()
        try? confidenceFile?.close()
        imageFile = nil
        confidenceFile = nil
        unlink(temporaryImage.path)
        unlink(temporaryConfidence.path)
    }

    // MARK: - Helpers

    /// SWarp's TAN WCS, labelled with the inputs' reference system (SWarp's `CELESTIAL_TYPE
    /// NATIVE` does not convert coordinates, though it writes `ICRS`).
    static func wcsCards(swarp: FITSHeader, reference: FITSHeader) -> FITSHeader {
        var cards = FITSHeader()
        for keyword in ["CTYPE1", "CTYPE2", "CUNIT1", "CUNIT2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2",
                        "CD1_1", "CD1_2", "CD2_1", "CD2_2"] {
            if let value = swarp[keyword] {
                cards.append(FITSCard(keyword, value,
                                      comment: swarp.cards.first { $0.keyword == keyword }?.comment ?? ""))
            }
        }
        let system = reference.string("RADESYS") ?? reference.string("RADECSYS") ?? swarp.string("RADESYS") ?? "ICRS"
        cards.append(FITSCard("RADESYS", .string(system), comment: "Mean IAU 1984 equatorial co-ordinates"))
        if system.uppercased().hasPrefix("FK") {
            let equinox = reference.double("EQUINOX") ?? swarp.double("EQUINOX") ?? 2000
            cards.append(FITSCard("EQUINOX", .double(equinox), comment: "[yr] Equinox of object position"))
        }
        return cards
    }

    /// Confidence from SWarp's weights: 100 × w / median(w > 0), at least 1 where w > 0.
    static func confidence(_ weights: [Float]) -> [Int16] {
        var live = sample(weights) { $0 > 0 && $0.isFinite }
        guard !live.isEmpty else { return [Int16](repeating: 0, count: weights.count) }
        let median = Double(select(&live, live.count / 2))
        guard median > 0 else { return [Int16](repeating: 0, count: weights.count) }
        let scale = Float(100 / median)
        return weights.withUnsafeBufferPointer { w in
            [Int16](unsafeUninitializedCapacity: w.count) { out, count in
                for i in 0..<w.count {
                    let v = w[i]
                    out[i] = v > 0 && v.isFinite ? Int16(max(1, min(32767, (v * scale).rounded()))) : 0
                }
                count = w.count
            }
        }
    }

    /// Median and 1.4826 × MAD of the pixels with confidence.
    static func skyStatistics(_ pixels: [Float], _ conf: [Int16]) -> (Double, Double) {
        var values = conf.withUnsafeBufferPointer { c in sampled(pixels) { c[$0] > 0 } }
        values.removeAll { !$0.isFinite }
        guard !values.isEmpty else { return (0, 0) }
        let median = select(&values, values.count / 2)
        var deviations = values.map { abs($0 - median) }
        let mad = select(&deviations, deviations.count / 2)
        return (Double(median), 1.4826 * Double(mad))
    }

    /// The values passing `keep`, from at most about 2²⁰ evenly spaced pixels.
    private static func sample(_ values: [Float], _ keep: (Float) -> Bool) -> [Float] {
        sampled(values) { keep(values[$0]) }
    }

    private static func sampled(_ values: [Float], where keep: (Int) -> Bool) -> [Float] {
        let step = max(1, values.count >> 20)
        var out: [Float] = []
        out.reserveCapacity(values.count / step + 1)
        values.withUnsafeBufferPointer { v in
            var i = 0
            while i < v.count {
                if keep(i) { out.append(v[i]) }
                i += step
            }
        }
        return out
    }

    /// The k-th smallest value (quickselect, reorders `values`).
    private static func select(_ values: inout [Float], _ k: Int) -> Float {
        var low = 0, high = values.count - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return values[k] }
        }
        return values[k]
    }

    private static func rounded(_ value: Double) -> Double { (value * 1e4).rounded() / 1e4 }

    /// Nil on success, else the system's reason.
    private static func sync(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
    }
}
