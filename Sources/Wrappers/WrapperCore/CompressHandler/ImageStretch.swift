import Foundation

/// Display stretches for astronomical images: pixel values → grey levels 0…255.
///
/// NaN, infinities and the WSA's null value (−0.9999995e9) are not data: they take no part in
/// the limits and show black. An image without a usable range (flat, or all null) shows
/// mid-grey (128).
package enum ImageStretch {
    /// At most this many pixels, on a regular grid, decide the limits: ten times astropy's
    /// `ZScaleInterval` default (1000; IRAF's was 600), and a sort cheap beside the decoding.
    static let maximumSamples = 10_000

    /// True for a pixel holding data.
    @inline(__always)
    static func isData(_ v: Float) -> Bool { v > -9.9999e8 && v < .infinity }  // false for NaN too

    /// The grey level (0…255) of every pixel, laid out for display by `orientation` (row-major,
    /// row 0 at the top), from an image held whole in memory.
    package static func greyLevels(_ pixels: [Float], width: Int, height: Int, stretch: Stretch,
                                   orientation: Orientation) -> [UInt8] {
        var grey: [UInt8] = []
        greyLevels(pixels, width: width, height: height, stretch: stretch, orientation: orientation, into: &grey)
        return grey
    }

    /// ``greyLevels(_:width:height:stretch:orientation:)`` into `grey` (storage reused when it
    /// has the size).
    static func greyLevels(_ pixels: [Float], width: Int, height: Int, stretch: Stretch,
                           orientation: Orientation, into grey: inout [UInt8]) {
        precondition(pixels.count == width * height, "\(pixels.count) pixels for a \(width)×\(height) image")
        let map = GreyMap(sortedSample: sample(pixels, width: width, height: height), stretch: stretch)
        let layout = DisplayLayout(width: width, height: height, orientation: orientation)
        layout.prepare(&grey)
        pixels.withUnsafeBufferPointer { stored in
            grey.withUnsafeMutableBufferPointer { display in
                for first in stride(from: 0, to: height, by: DisplayLayout.stripRows) {
                    let rows = min(DisplayLayout.stripRows, height - first)
                    layout.write(rows: first, count: rows, from: stored.baseAddress! + first * width, into: display, map: map)
                }
            }
        }
    }

    /// The pixels that decide the limits: a regular grid of at most about ``maximumSamples``.
    struct SampleGrid {
        let width: Int, height: Int, step: Int

        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            step = max(1, Int((Double(width * height) / Double(maximumSamples)).squareRoot().rounded(.up)))
        }

        /// The stored rows (0-based) the grid passes through.
        var rows: StrideTo<Int> { stride(from: step / 2, to: height, by: step) }

        /// Adds the data pixels of one of ``rows`` (its `width` values) to `sample`.
        func collect(row: UnsafePointer<Float>, into sample: inout [Float]) {
            for x in stride(from: step / 2, to: width, by: step) where isData(row[x]) {
                sample.append(row[x])
            }
        }
    }

    /// The data pixels on the sample grid, sorted.
    static func sample(_ pixels: [Float], width: Int, height: Int) -> [Float] {
        let grid = SampleGrid(width: width, height: height)
        var sample: [Float] = []
        sample.reserveCapacity(maximumSamples + width + height)
        pixels.withUnsafeBufferPointer { stored in
            for y in grid.rows { grid.collect(row: stored.baseAddress! + y * width, into: &sample) }
        }
        sample.sort()
        return sample
    }

    /// How a pixel value becomes a grey level, fitted to a sorted sample: NaN, infinities and
    /// nulls black, a flat or empty sample mid-grey.
    enum GreyMap {
        case flat
        case linear(low: Float, levels: Float)
        case asinh(low: Float, scale: Float)

        init(sortedSample sample: [Float], stretch: Stretch) {
            let limits: (low: Float, high: Float)?
            switch stretch {
            case .zscale: limits = zscale(sortedSample: sample)
            case .asinh: limits = percentiles(sortedSample: sample, low: 0.0025, high: 0.9975)
            }
            guard let (low, high) = limits, high > low, (high - low).isFinite else {
                self = .flat
                return
            }
            switch stretch {
            case .zscale: self = .linear(low: low, levels: 255 / (high - low))
            case .asinh: self = .asinh(low: low, scale: 1 / (high - low))
            }
        }
    }

    /// One ``GreyMap`` case as a type, so that each gets its own compiled (and, when branch-free,
    /// vectorised) loop in ``DisplayLayout``.
    fileprivate protocol PixelGrey {
        func callAsFunction(_ v: Float) -> UInt8
    }

    fileprivate struct FlatGrey: PixelGrey {
        @inline(__always) func callAsFunction(_ v: Float) -> UInt8 { isData(v) ? 128 : 0 }
    }

    fileprivate struct LinearGrey: PixelGrey {
        let low: Float, levels: Float
        /// Rounds without a trapping conversion: adding 2²³ to a value in 0…255 leaves its
        /// nearest integer in the low mantissa bits.
        @inline(__always) func callAsFunction(_ v: Float) -> UInt8 {
            let t = Swift.min(Swift.max((v - low) * levels, 0), 255)
            let level = UInt8(truncatingIfNeeded: (t + 8_388_608).bitPattern)
            return isData(v) ? level : 0
        }
    }

    /// astropy's AsinhStretch with a = 0.1: linear near the sky, logarithmic for stars.
    fileprivate struct AsinhGrey: PixelGrey {
        let low: Float, scale: Float
        static let a: Float = 0.1
        static let levels: Float = 255 / Foundation.asinh(1 / a)
        @inline(__always) func callAsFunction(_ v: Float) -> UInt8 {
            guard isData(v) else { return 0 }
            let t = Swift.min(1, Swift.max(0, (v - low) * scale))
            return UInt8(Foundation.asinh(t / Self.a) * Self.levels + 0.5)
        }
    }

    /// Where stored pixels land on the display (row-major, row 0 at the top), written a strip
    /// of stored rows at a time: a strip of ``stripRows`` rows (256 kB of a 2048-wide image)
    /// and the display band it fills both stay in the core's cache, so a transposed layout reads
    /// down the strip's columns without going to memory for every pixel.
    struct DisplayLayout {
        static let stripRows = 32
        let width: Int, height: Int, orientation: Orientation
        let displayWidth: Int, displayHeight: Int

        init(width: Int, height: Int, orientation: Orientation) {
            self.width = width
            self.height = height
            self.orientation = orientation
            (displayWidth, displayHeight) = orientation.displaySize(width: width, height: height)
        }

        /// Gives `display` the display's size, reusing its storage when it has it.
        func prepare(_ display: inout [UInt8]) {
            if display.count != displayWidth * displayHeight {
                display = [UInt8](repeating: 0, count: displayWidth * displayHeight)
            }
        }

        /// Writes stored rows `first ..< first + count` (`strip` holds their pixels, x fastest).
        func write(rows first: Int, count: Int, from strip: UnsafePointer<Float>,
                   into display: UnsafeMutableBufferPointer<UInt8>, map: GreyMap) {
            precondition(first >= 0 && count >= 0 && first + count <= height && display.count == width * height)
            switch map {
            case .flat: write(rows: first, count: count, from: strip, into: display.baseAddress!, FlatGrey())
            case .linear(let low, let levels):
                write(rows: first, count: count, from: strip, into: display.baseAddress!, LinearGrey(low: low, levels: levels))
            case .asinh(let low, let scale):
                write(rows: first, count: count, from: strip, into: display.baseAddress!, AsinhGrey(low: low, scale: scale))
            }
        }

        private func write<Grey: PixelGrey>(rows first: Int, count: Int, from strip: UnsafePointer<Float>,
                                            into target: UnsafeMutablePointer<UInt8>, _ grey: Grey) {
            // Stored (x, y) → a = x or mirrored, b = y or mirrored; display (u, v) = transposed ?
            // (b, a) : (a, b); row = displayHeight − 1 − v.
            if !orientation.transposed {
                for y in first..<(first + count) {
                    let b = orientation.flipY ? height - 1 - y : y
                    let line = target + (displayHeight - 1 - b) * displayWidth, source = strip + (y - first) * width
                    if orientation.flipX {
                        let end = line + (width - 1)
                        for x in 0..<width { end[-x] = grey(source[x]) }
                    } else {
                        for x in 0..<width { line[x] = grey(source[x]) }
                    }
                }
            } else {
                for x in 0..<width {
                    let a = orientation.flipX ? width - 1 - x : x
                    let line = target + (displayHeight - 1 - a) * displayWidth
                    let source = strip + x
                    if orientation.flipY {
                        let end = line + (height - 1)
                        for y in 0..<count { end[-(first + y)] = grey(source[y * width]) }
                    } else {
                        let start = line + first
                        for y in 0..<count { start[y] = grey(source[y * width]) }
                    }
                }
            }
        }
    }

    /// The values at two quantiles of a sorted sample.
    static func percentiles(sortedSample s: [Float], low: Double, high: Double) -> (low: Float, high: Float)? {
        guard !s.isEmpty else { return nil }
        func at(_ q: Double) -> Float { s[min(s.count - 1, max(0, Int((q * Double(s.count - 1)).rounded())))] }
        return (at(low), at(high))
    }

    /// IRAF's zscale (as astropy's `ZScaleInterval`): a line fitted to the sorted sample with
    /// iterative 2.5σ rejection (rejected points grown by 1% of the sample), its slope divided by
    /// the contrast, centred on the median, clipped to the sample's range.
    static func zscale(sortedSample s: [Float], contrast: Double = 0.25, rejectionSigma: Double = 2.5,
                       maximumRejected: Double = 0.5, minimumPixels: Int = 5,
                       iterations: Int = 5) -> (low: Float, high: Float)? {
        let n = s.count
        guard n > 0 else { return nil }
        var low = s[0], high = s[n - 1]
        let minimumGood = max(minimumPixels, Int(Double(n) * maximumRejected))
        let grow = max(1, Int(Double(n) * 0.01))
        var bad = [Bool](repeating: false, count: n)
        var good = n, lastGood = n + 1
        var slope = 0.0
        for _ in 0..<iterations {
            guard good < lastGood, good >= minimumGood else { break }
            // Least-squares line through the good points.
            var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for i in 0..<n where !bad[i] {
                let x = Double(i), y = Double(s[i])
                sw += 1; sx += x; sy += y; sxx += x * x; sxy += x * y
            }
            let denominator = sw * sxx - sx * sx
            guard denominator > 0 else { break }
            slope = (sw * sxy - sx * sy) / denominator
            let intercept = (sy - slope * sx) / sw
            // Standard deviation of the good residuals.
            var sum = 0.0, sumSquares = 0.0
            for i in 0..<n where !bad[i] {
                let r = Double(s[i]) - (intercept + slope * Double(i))
                sum += r; sumSquares += r * r
            }
            let mean = sum / sw
            let threshold = rejectionSigma * max(0, sumSquares / sw - mean * mean).squareRoot()
            var rejected = [Bool](repeating: false, count: n)
            for i in 0..<n {
                let r = Double(s[i]) - (intercept + slope * Double(i))
                if bad[i] || r < -threshold || r > threshold { rejected[i] = true }
            }
            // Grow: a point is bad when a rejected point lies within the window around it
            // (numpy.convolve(…, ones(grow), mode="same")).
            var prefix = [Int](repeating: 0, count: n + 1)
            for i in 0..<n { prefix[i + 1] = prefix[i] + (rejected[i] ? 1 : 0) }
            let before = (grow - 1) / 2, after = grow / 2
            for i in 0..<n {
                let from = max(0, i - after), to = min(n, i + before + 1)
                bad[i] = prefix[to] - prefix[from] > 0
            }
            lastGood = good
            good = bad.lazy.filter { !$0 }.count
        }
        if good >= minimumGood {
            let s0 = contrast > 0 ? slope / contrast : slope
            let centre = (n - 1) / 2
            let median = n % 2 == 1 ? Double(s[n / 2]) : (Double(s[n / 2 - 1]) + Double(s[n / 2])) / 2
            low = max(low, Float(median - Double(centre - 1) * s0))
            high = min(high, Float(median + Double(n - centre) * s0))
        }
        return (low, high)
    }
}
