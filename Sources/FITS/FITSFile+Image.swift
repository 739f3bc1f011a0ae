import CCFITSIO
import Foundation

/// How an image is stored on disk.
public enum BitPix: Int, Sendable {
    case uint8 = 8
    case int16 = 16
    case int32 = 32
    case int64 = 64
    case float32 = -32
    case float64 = -64
}

/// Tile compression of an image HDU.
public enum ImageCompression: Sendable, Equatable {
    case none
    /// Rice, as CASU delivers images. `tile` defaults to one row per tile; floating-point
    /// images are quantised with `quantizeLevel` (cfitsio's default 4 when nil).
    case rice(tile: [Int]? = nil, quantizeLevel: Float? = nil)
    /// Lossless GZIP (floating-point images kept exactly).
    case gzip(tile: [Int]? = nil)
}

extension FITSFile {
    /// The largest image we agree to read into memory (elements), to refuse absurd headers.
    public static let maximumImageElements = 1 << 30

    /// Creates a new image HDU after the last one (the primary HDU if the file is empty).
    /// An empty `dimensions` makes a data-less HDU (a MEF's primary).
    public func createImage(bitpix: BitPix, dimensions: [Int],
                            compression: ImageCompression = .none) throws {
        var naxes = dimensions.map { Int($0) }
        try call(.writeFailed, "create image") { fptr, status in
            switch compression {
            case .none:
                break
            case .rice(let tile, let q):
                fits_set_compression_type(fptr, RICE_1, &status)
                var t = tile ?? [dimensions.first ?? 1, 1]
                fits_set_tile_dim(fptr, Int32(t.count), &t, &status)
                if let q { fits_set_quantize_level(fptr, q, &status) }
            case .gzip(let tile):
                fits_set_compression_type(fptr, GZIP_1, &status)
                var t = tile ?? [dimensions.first ?? 1, 1]
                fits_set_tile_dim(fptr, Int32(t.count), &t, &status)
                fits_set_quantize_level(fptr, 0, &status)
            }
            ffcrim(fptr, Int32(bitpix.rawValue), Int32(naxes.count), &naxes, &status)
            if compression != .none {
                fits_set_compression_type(fptr, 0, &status)
            }
        }
        currentHDU = try call(.readFailed, "locate new HDU") { fptr, status -> Int in
            var n: Int32 = 0
            ffghdn(fptr, &n)
            return Int(n)
        }
    }

    /// BITPIX and axis lengths of the current image HDU (the uncompressed image's, if compressed).
    public func imageShape() throws -> (bitpix: Int, dimensions: [Int]) {
        var bitpix: Int32 = 0, naxis: Int32 = 0
        var naxes = [Int64](repeating: 0, count: 9)
        try call(.notAnImage, "read image shape") { ffgiprll($0, 9, &bitpix, &naxis, &naxes, &$1) }
        return (Int(bitpix), naxes.prefix(Int(max(0, min(naxis, 9)))).map { Int($0) })
    }

    /// Reads every pixel of the current image HDU, BSCALE/BZERO applied, first axis fastest.
    public func readPixels<T: FITSNumeric>(as type: T.Type = T.self) throws -> [T] {
        let (_, dims) = try imageShape()
        guard !dims.isEmpty else {
            throw error(.notAnImage, "read pixels", "the HDU has no image data (NAXIS = 0)")
        }
        var count = 1
        for d in dims {
            guard d > 0 else { throw error(.notAnImage, "read pixels", "an axis has length \(d)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Self.maximumImageElements else {
                throw error(.tooLarge, "read pixels", "image of \(dims) pixels is larger than we read")
            }
            count = product
        }
        return try readPixels(first: 1, count: count, as: type)
    }

    /// Reads `count` pixels starting at 1-based element `first` (a run of whole rows, say).
    public func readPixels<T: FITSNumeric>(first: Int, count: Int, as type: T.Type = T.self) throws -> [T] {
        guard count >= 0, count <= Self.maximumImageElements else {
            throw error(.tooLarge, "read pixels", "\(count) pixels is more than we read at once")
        }
        return try [T](cfitsioFilling: count) { try readPixels(T.self, first: first, count: count, to: $0) }
    }

    /// ``readPixels(first:count:as:)`` into the first `count` elements of `pixels`, which grows
    /// when it is shorter and is otherwise reused: a loop over strips or over same-sized images
    /// (a frame's detectors) then touches no fresh memory, where a new 2048² image costs
    /// thousands of page faults.
    public func readPixels<T: FITSNumeric>(first: Int, count: Int, into pixels: inout [T]) throws {
        guard count >= 0, count <= Self.maximumImageElements else {
            throw error(.tooLarge, "read pixels", "\(count) pixels is more than we read at once")
        }
        guard pixels.count >= count else {
            pixels = try readPixels(first: first, count: count, as: T.self)
            return
        }
        try pixels.withUnsafeMutableBytes { try readPixels(T.self, first: first, count: count, to: $0.baseAddress) }
    }

    /// cfitsio's read of `count` pixels from element `first` into `base` (room for them all).
    private func readPixels<T: FITSNumeric>(_ type: T.Type, first: Int, count: Int, to base: UnsafeMutableRawPointer?) throws {
        var anynul: Int32 = 0
        _ = try call(.readFailed, "read pixels") {
            ffgpv($0, T.cfitsioType, Int64(first), Int64(count), nil, base, &anynul, &$1)
        }
    }

    /// Writes pixels to the current image HDU starting at 1-based element `first`.
    public func writePixels<T: FITSNumeric>(_ pixels: [T], first: Int = 1) throws {
        // cfitsio only reads the array (it converts through its own buffers).
        try pixels.withUnsafeBytes { buffer in
            let base = UnsafeMutableRawPointer(mutating: buffer.baseAddress)
            try call(.writeFailed, "write pixels") {
                ffppr($0, T.cfitsioType, Int64(first), Int64(pixels.count), base, &$1)
            }
        }
    }
}
