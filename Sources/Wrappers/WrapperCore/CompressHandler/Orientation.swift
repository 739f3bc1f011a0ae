public import FITS
import Foundation

/// One of the 8 ways to lay a stored FITS image onto the screen (transpose and/or flips), and
/// the one that shows north up and east left for a WCS.
///
/// The display frame has `u` to the right and `v` up, both 0-based; the JPEG's row 0 is the top
/// (`v = height − 1`). A display pixel `(u, v)` shows the stored pixel `(a, b)` (0-based, FITS
/// `x − 1`, `y − 1`): `(a, b) = transposed ? (v, u) : (u, v)`, then `a` mirrored when `flipX`,
/// `b` mirrored when `flipY`. ``identity`` is the stored image as FITS viewers show it
/// (pixel (1, 1) at the bottom left).
public struct Orientation: Sendable, Hashable, CustomStringConvertible {
    /// Stored x runs up the display, stored y to the right.
    public var transposed: Bool
    /// Stored x is mirrored.
    public var flipX: Bool
    /// Stored y is mirrored.
    public var flipY: Bool

    public init(transposed: Bool = false, flipX: Bool = false, flipY: Bool = false) {
        self.transposed = transposed
        self.flipX = flipX
        self.flipY = flipY
    }

    public static let identity = Orientation()

    /// All 8 transpose/flip combinations.
    public static let all: [Orientation] = [false, true].flatMap { t in
        [false, true].flatMap { fx in [false, true].map { fy in Orientation(transposed: t, flipX: fx, flipY: fy) } }
    }

    public var description: String {
        var parts = [transposed ? "transposed" : "as stored"]
        if flipX { parts.append("x flipped") }
        if flipY { parts.append("y flipped") }
        return parts.joined(separator: ", ")
    }

    /// The displayed size of a stored `width` × `height` image.
    public func displaySize(width: Int, height: Int) -> (width: Int, height: Int) {
        transposed ? (height, width) : (width, height)
    }

    /// The stored pixel (0-based x, y) that JPEG pixel (`column`, `row`; row 0 at the top) shows.
    public func storedPixel(column: Int, row: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        let displayHeight = transposed ? width : height
        let u = column, v = displayHeight - 1 - row
        var (a, b) = transposed ? (v, u) : (u, v)
        if flipX { a = width - 1 - a }
        if flipY { b = height - 1 - b }
        return (a, b)
    }

    /// Where a stored position (FITS 1-based x, y) lands in the JPEG: a fractional 0-based
    /// (column, row), row 0 at the top; rounding gives the JPEG pixel it falls in.
    public func jpegPosition(x: Double, y: Double, width: Int, height: Int) -> (column: Double, row: Double) {
        var a = x - 1, b = y - 1
        if flipX { a = Double(width - 1) - a }
        if flipY { b = Double(height - 1) - b }
        let (u, v) = transposed ? (b, a) : (a, b)
        let displayHeight = transposed ? width : height
        return (u, Double(displayHeight - 1) - v)
    }

    /// The orientation showing north up and east left, from the sky directions of the stored
    /// x and y axes at the image centre. Nil when the WCS cannot say (fails there, or gives a
    /// degenerate or non-finite answer).
    public static func northUp(wcs: WCS, width: Int, height: Int) -> Orientation? {
        let cx = Double(width + 1) / 2, cy = Double(height + 1) / 2
        let step = max(1, Double(min(width, height)) / 20)
        guard let sky = try? wcs.pixelToSky([PixelPosition(x: cx, y: cy), PixelPosition(x: cx + step, y: cy),
                                             PixelPosition(x: cx, y: cy + step)]) else { return nil }
        let cosDec = cos(sky[0].dec * .pi / 180)
        func direction(_ p: SkyPosition) -> (east: Double, north: Double) {
            var dRA = p.ra - sky[0].ra
            dRA -= 360 * (dRA / 360).rounded()
            return (dRA * cosDec, p.dec - sky[0].dec)
        }
        return northUp(xAxis: direction(sky[1]), yAxis: direction(sky[2]))
    }

    /// The orientation showing north up and east left, given the sky direction (east, north
    /// components, any common unit) of a step along the stored x axis and along the y axis —
    /// e.g. the columns of the CD matrix with the RA row first.
    public static func northUp(xAxis: (east: Double, north: Double), yAxis: (east: Double, north: Double)) -> Orientation? {
        let values = [xAxis.east, xAxis.north, yAxis.east, yAxis.north]
        guard values.allSatisfy(\.isFinite) else { return nil }
        let xLength = hypot(xAxis.east, xAxis.north), yLength = hypot(yAxis.east, yAxis.north)
        guard xLength > 0, yLength > 0 else { return nil }
        let x = (xAxis.east / xLength, xAxis.north / xLength), y = (yAxis.east / yLength, yAxis.north / yLength)
        // Display right should point west, display up north.
        func score(_ o: Orientation) -> Double {
            let right = o.transposed ? (o.flipY ? -1 : 1) * y.0 : (o.flipX ? -1 : 1) * x.0
            let up = o.transposed ? (o.flipX ? -1 : 1) * x.1 : (o.flipY ? -1 : 1) * y.1
            return -right + up
        }
        guard abs(x.0 * y.1 - x.1 * y.0) > 0.1 else { return nil }
        return all.max { score($0) < score($1) }
    }
}

/// Reduced copies of display images.
enum Thumbnail {
    /// The size whose longest side is `longest` (never larger than the image), aspect kept.
    static func size(width: Int, height: Int, longest: Int) -> (width: Int, height: Int) {
        let side = max(width, height)
        guard longest < side else { return (width, height) }
        let scale = Double(longest) / Double(side)
        return (max(1, min(longest, Int((Double(width) * scale).rounded()))),
                max(1, min(longest, Int((Double(height) * scale).rounded()))))
    }

    /// Box-average (area) resampling of a row-major grey image to `to` size: every output pixel
    /// is the mean of the input area it covers (fractional edge pixels weighted by their
    /// overlap), rounded to the nearest level.
    static func boxAverage(_ pixels: [UInt8], width: Int, height: Int,
                           to size: (width: Int, height: Int)) -> [UInt8] {
        guard size != (width, height) else { return pixels }
        if width % size.width == 0, height % size.height == 0 {
            return blockAverage(pixels, width: width, height: height, factor: (width / size.width, height / size.height))
        }
        let columns = weights(from: width, to: size.width)
        let rows = weights(from: height, to: size.height)
        var horizontal = [Float](repeating: 0, count: size.width * height)
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let row = y * width
                for (j, taps) in columns.enumerated() {
                    var sum: Float = 0
                    for (i, w) in taps { sum += Float(source[row + i]) * w }
                    horizontal[y * size.width + j] = sum
                }
            }
        }
        var out = [Float](repeating: 0, count: size.width * size.height)
        for (k, taps) in rows.enumerated() {
            for (i, w) in taps {
                let source = i * size.width, target = k * size.width
                for j in 0..<size.width { out[target + j] += horizontal[source + j] * w }
            }
        }
        return out.map { UInt8(min(255, max(0, $0)) + 0.5) }
    }

    /// ``boxAverage(_:width:height:to:)`` when the size divides by whole `factor` blocks (a
    /// 2048² detector to 256²): the rounded mean of each block, in integers.
    private static func blockAverage(_ pixels: [UInt8], width: Int, height: Int,
                                     factor: (x: Int, y: Int)) -> [UInt8] {
        let (w, h) = (width / factor.x, height / factor.y)
        let area = UInt32(factor.x * factor.y)
        var sums = [UInt32](repeating: 0, count: w)
        var out = [UInt8](repeating: 0, count: w * h)
        pixels.withUnsafeBufferPointer { source in
            for k in 0..<h {
                for j in 0..<w { sums[j] = 0 }
                for y in (k * factor.y)..<((k + 1) * factor.y) {
                    let row = source.baseAddress! + y * width
                    for j in 0..<w {
                        var sum: UInt32 = 0
                        for i in (j * factor.x)..<((j + 1) * factor.x) { sum += UInt32(row[i]) }
                        sums[j] += sum
                    }
                }
                for j in 0..<w { out[k * w + j] = UInt8((sums[j] + area / 2) / area) }
            }
        }
        return out
    }

    /// For each output index, the input indices it covers and their normalised overlaps.
    private static func weights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { j in
            let start = Double(j) * scale, end = Double(j + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while i < n, Double(i) < end {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 1e-9 { taps.append((i, Float(overlap / scale))) }
                i += 1
            }
            return taps
        }
    }
}
