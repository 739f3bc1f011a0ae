import Foundation

/// Display stretches for astronomical images: pixel values → brightness in 0…1.
///
/// NaN, infinities and the WSA's null value (−0.9999995e9) are not data: they take no part in
/// the limits and show black. An image without a usable range (flat, or all null) shows
/// mid-grey.
enum ImageStretch {
    /// At most this many pixels, on a regular grid, decide the limits.
    static let maximumSamples = 100_000

    /// True for a pixel holding data.
    @inline(__always)
    static func isData(_ v: Float) -> Bool { v.isFinite && v > -9.9999e8 }

    /// Brightness 0…1 for every pixel, in the order given.
    static func normalise(_ pixels: [Float], width: Int, height: Int, stretch: Stretch) -> [Float] {
        let sample = self.sample(pixels, width: width, height: height)
        let limits: (low: Float, high: Float)?
        switch stretch {
        case .zscale: limits = zscale(sortedSample: sample)
        case .asinh: limits = percentiles(sortedSample: sample, low: 0.0025, high: 0.9975)
        }
        guard let (low, high) = limits, high > low, (high - low).isFinite else {
            return pixels.map { isData($0) ? 0.5 : 0 }
        }
        let scale = 1 / (high - low)
        switch stretch {
        case .zscale:
            return pixels.map { isData($0) ? min(1, max(0, ($0 - low) * scale)) : 0 }
        case .asinh:
            // astropy's AsinhStretch with a = 0.1: linear near the sky, logarithmic for stars.
            let a: Float = 0.1, norm = 1 / asinh(1 / a)
            return pixels.map { v in
                guard isData(v) else { return 0 }
                let t = min(1, max(0, (v - low) * scale))
                return asinh(t / a) * norm
            }
        }
    }

    /// The data pixels on a grid of at most `maximumSamples` points, sorted.
    static func sample(_ pixels: [Float], width: Int, height: Int) -> [Float] {
        let total = width * height
        let step = max(1, Int((Double(total) / Double(maximumSamples)).squareRoot().rounded(.up)))
        var sample: [Float] = []
        sample.reserveCapacity(min(total, maximumSamples + width + height))
        for y in stride(from: step / 2, to: height, by: step) {
            let row = y * width
            for x in stride(from: step / 2, to: width, by: step) where isData(pixels[row + x]) {
                sample.append(pixels[row + x])
            }
        }
        sample.sort()
        return sample
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
