public import FITS
import Foundation
import AppDriver
import WrapperCore

/// Plain (uncompressed, single-image) copies of one image HDU, for the external tools
/// (source-extractor, SWarp), which cannot read tile-compressed images.
public enum PlainCopy {
    /// What the driver learnt from the image while copying it.
    struct Image {
        var copy: URL
        var width: Int
        var height: Int
        var wcs: WCS
        /// Arcseconds per pixel at the image centre (from the WCS).
        var pixelScale: Double
        /// SEEING (pixels), when the header gives it.
        var seeingPixels: Double?
        /// GAIN × NICOMB (e⁻/ADU of the per-exposure mean), 0 when GAIN is absent.
        var effectiveGain: Double
    }

    /// Copies image HDU `hdu` of `path` to `destination` as float32, with its header (less the
    /// structural and compression keywords) and GAIN replaced by the effective gain.
    static func image(_ path: String, hdu: Int, to destination: URL) throws(WrapperError) -> Image {
        let file = try open(path, hdu: hdu)
        defer { try? file.close() }
        let header: FITSHeader, primary: FITSHeader, pixels: [Float], dims: [Int]
        do {
            header = try file.header()
            dims = try file.imageShape().dimensions
            guard dims.count == 2, dims[0] > 0, dims[1] > 0 else {
                throw WrapperError(.wrongContents, file: path, "HDU \(hdu) is not a two-dimensional image (axes \(dims))")
            }
            pixels = try file.readPixels(as: Float.self)
            try file.moveTo(hdu: 1)
            primary = try file.header()
        } catch let e as WrapperError {
            throw e
        } catch {
            throw FitsReader.unreadable(path, error)
        }
        let wcs: WCS
        let scale: Double
        do {
            wcs = try WCS(header: header, source: path)
            scale = try pixelScale(wcs, width: dims[0], height: dims[1])
        } catch {
            throw WrapperError(.noWCS, file: path, "HDU \(hdu) has no usable celestial WCS: \(error)")
        }
        func value(_ key: String) -> Double? {
            (header.double(key) ?? primary.double(key)).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        }
        let gain = value("GAIN").map { $0 * (value("NICOMB") ?? 1) } ?? 0
        var cards = header.cards.filter { keep($0) && $0.keyword != "GAIN" }
        if gain > 0 {
            cards.append(FITSCard("GAIN", .double(gain), comment: "[e-/ADU] effective gain, GAIN x NICOMB"))
        }
        try write(pixels, width: dims[0], height: dims[1], header: FITSHeader(cards), to: destination,
                  source: path)
        return Image(copy: destination, width: dims[0], height: dims[1], wcs: wcs, pixelScale: scale,
                     seeingPixels: value("SEEING"), effectiveGain: gain)
    }

    /// Copies the confidence map HDU `hdu` of `path` (pixel values only); it must have the
    /// image's size.
    static func weight(_ path: String, hdu: Int, matching image: Image, to destination: URL) throws(WrapperError) {
        let file = try open(path, hdu: hdu)
        defer { try? file.close() }
        let pixels: [Float]
        do {
            let dims = try file.imageShape().dimensions
            guard dims == [image.width, image.height] else {
                throw WrapperError(.wrongContents, file: path,
                                   "HDU \(hdu) is \(dims.map(String.init).joined(separator: "×")) pixels, the image \(image.width)×\(image.height)")
            }
            pixels = try file.readPixels(as: Float.self)
        } catch let e as WrapperError {
            throw e
        } catch {
            throw FitsReader.unreadable(path, error)
        }
        guard pixels.contains(where: { $0 > 0 }) else {
            throw WrapperError(.wrongContents, file: path, "HDU \(hdu): the confidence map is zero everywhere")
        }
        try write(pixels, width: image.width, height: image.height, header: FITSHeader(), to: destination,
                  source: path)
    }

    static func open(_ path: String, hdu: Int) throws(WrapperError) -> FITSFile {
        let file: FITSFile
        let hdus: [HDUInfo]
        do {
            file = try FITSFile.open(path)
            hdus = try file.hdus()
        } catch {
            throw FitsReader.unreadable(path, error)
        }
        guard hdus.indices.contains(hdu - 1), hdus[hdu - 1].holdsImage else {
            try? file.close()
            throw WrapperError(.wrongContents, file: path,
                               "HDU \(hdu) is not an image (the file has \(hdus.count) HDUs)")
        }
        do {
            try file.moveTo(hdu: hdu)
        } catch {
            try? file.close()
            throw FitsReader.unreadable(path, error)
        }
        return file
    }

    static func write(_ pixels: [Float], width: Int, height: Int, header: FITSHeader, to destination: URL,
                      source: String) throws(WrapperError) {
        do {
            let out = try FITSFile.create(destination.path, overwrite: true)
            do {
                try out.createImage(bitpix: .float32, dimensions: [width, height])
                try out.setKeys(header)
                try out.writePixels(pixels)
                try out.close()
            } catch {
                try? out.close()
                throw error
            }
        } catch let error as FITSError where error.code == .headerWriteFailed || error.code == .keywordInvalid {
            // cfitsio refused a card of the source's header: the source is at fault.
            throw WrapperError(.wrongContents, file: source, "its header cannot be copied: \(FitsReader.problem(error))",
                               detail: error.message)
        } catch {
            throw WrapperError(.writeFailed, file: destination.path, "plain copy of \(source): \(error)")
        }
    }

    /// Whether a header card is carried to a plain copy: structural, compression and checksum
    /// keywords are the new file's own business.
    public static func keep(_ card: FITSCard) -> Bool {
        let key = card.keyword.uppercased()
        if card.value == nil { return false }  // COMMENT, HISTORY, blank
        if ["SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT", "BSCALE", "BZERO",
            "BLANK", "TFIELDS", "CHECKSUM", "DATASUM", "EXTNAME", "EXTVER", "INHERIT", "END"].contains(key) {
            return false
        }
        for prefix in ["NAXIS", "TTYPE", "TFORM", "TUNIT", "TSCAL", "TZERO", "TNULL", "ZIMAGE", "ZBITPIX",
                       "ZNAXIS", "ZTILE", "ZCMPTYPE", "ZNAME", "ZVAL", "ZQUANTIZ", "ZDITHER", "ZSIMPLE",
                       "ZEXTEND", "ZTENSION", "ZPCOUNT", "ZGCOUNT", "ZHECKSUM", "ZDATASUM", "ZBLANK",
                       "ZSCALE", "ZZERO", "ZMASKCMP"] where key.hasPrefix(prefix) {
            return false
        }
        return true
    }

    /// Arcseconds per pixel at the image centre: the square root of a pixel's area on the sky.
    static func pixelScale(_ wcs: WCS, width: Int, height: Int) throws -> Double {
        let cx = (Double(width) + 1) / 2, cy = (Double(height) + 1) / 2
        let p = try wcs.pixelToSky([PixelPosition(x: cx, y: cy), PixelPosition(x: cx + 1, y: cy),
                                    PixelPosition(x: cx, y: cy + 1)])
        let cosDec = cos(p[0].dec * .pi / 180)
        func offset(_ q: SkyPosition) -> (Double, Double) {
            var dra = q.ra - p[0].ra
            if dra > 180 { dra -= 360 } else if dra < -180 { dra += 360 }
            return (dra * cosDec * 3600, (q.dec - p[0].dec) * 3600)
        }
        let (ax, ay) = offset(p[1]), (bx, by) = offset(p[2])
        let area = abs(ax * by - ay * bx)
        guard area.isFinite, area > 0 else {
            throw FITSError(.wcsFailed, file: wcs.source, operation: "pixel scale", message: "degenerate WCS")
        }
        return area.squareRoot()
    }
}
