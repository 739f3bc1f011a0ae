import Foundation

/// The pixel arithmetic of ``DiaDriver``: background maps, Gaussian PSF matching, noise and
/// seeing measurements, the combined confidence. Images are row-major `[Float]` of
/// `width × height` (FITS pixel (x, y) at index (y − 1)·width + x − 1); a pixel is live when
/// its weight (confidence) is positive and its value finite.
enum DiffImaging {
    /// FWHM = `fwhmPerSigma` × σ for a Gaussian.
    static let fwhmPerSigma = 2 * (2 * log(2.0)).squareRoot()

    // MARK: - Background

    /// A smooth background map (SExtractor's method): the image is cut into meshes of about
    /// `mesh` pixels; in each, the live pixels are clipped at 3σ about the median until stable,
    /// and the sky is the mode estimate 2.5·median − 1.5·mean (the median when the two disagree
    /// by more than 0.3σ, as in crowded meshes); meshes with too few live pixels take their
    /// neighbours' value; the mesh values are median-filtered 3×3 and interpolated bilinearly
    /// between mesh centres.
    static func background(_ pixels: [Float], weights: [Float], width: Int, height: Int,
                           mesh: Int = 64) -> [Float] {
        let nx = max(1, Int((Double(width) / Double(mesh)).rounded())),
            ny = max(1, Int((Double(height) / Double(mesh)).rounded()))
        var grid = [Double?](repeating: nil, count: nx * ny)
        pixels.withUnsafeBufferPointer { p in
            weights.withUnsafeBufferPointer { w in
                var values: [Float] = []
                for j in 0..<ny {
                    let y0 = j * height / ny, y1 = (j + 1) * height / ny
                    for i in 0..<nx {
                        let x0 = i * width / nx, x1 = (i + 1) * width / nx
                        values.removeAll(keepingCapacity: true)
                        for y in y0..<y1 {
                            for x in x0..<x1 {
                                let k = y * width + x
                                if w[k] > 0 && p[k].isFinite { values.append(p[k]) }
                            }
                        }
                        guard values.count >= max(16, (x1 - x0) * (y1 - y0) / 4) else { continue }
                        grid[j * nx + i] = meshLevel(&values)
                    }
                }
            }
        }
        // Fill meshes without enough data from their neighbours (repeatedly), else 0.
        if grid.allSatisfy({ $0 == nil }) { return [Float](repeating: 0, count: pixels.count) }
        while grid.contains(where: { $0 == nil }) {
            var next = grid
            for j in 0..<ny {
                for i in 0..<nx where grid[j * nx + i] == nil {
                    var sum = 0.0, n = 0
                    for dj in -1...1 {
                        for di in -1...1 {
                            let (a, b) = (i + di, j + dj)
                            guard a >= 0, a < nx, b >= 0, b < ny, let v = grid[b * nx + a] else { continue }
                            sum += v
                            n += 1
                        }
                    }
                    if n > 0 { next[j * nx + i] = sum / Double(n) }
                }
            }
            grid = next
        }
        let levels = grid.map { $0 ?? 0 }
        // 3×3 median filter of the mesh values.
        var filtered = levels
        if nx * ny > 1 {
            for j in 0..<ny {
                for i in 0..<nx {
                    var around: [Double] = []
                    for b in max(0, j - 1)...min(ny - 1, j + 1) {
                        for a in max(0, i - 1)...min(nx - 1, i + 1) { around.append(levels[b * nx + a]) }
                    }
                    around.sort()
                    let m = around.count
                    filtered[j * nx + i] = m % 2 == 1 ? around[m / 2] : 0.5 * (around[m / 2 - 1] + around[m / 2])
                }
            }
        }
        // Bilinear between mesh centres, constant beyond the outer centres.
        let cx = (0..<nx).map { (Double($0 * width / nx) + Double(($0 + 1) * width / nx) - 1) / 2 }
        let cy = (0..<ny).map { (Double($0 * height / ny) + Double(($0 + 1) * height / ny) - 1) / 2 }
        func bracket(_ v: Double, _ centres: [Double]) -> (Int, Int, Double) {
            if centres.count == 1 || v <= centres[0] { return (0, 0, 0) }
            if v >= centres[centres.count - 1] { return (centres.count - 1, centres.count - 1, 0) }
            var a = 0
            while centres[a + 1] < v { a += 1 }
            return (a, a + 1, (v - centres[a]) / (centres[a + 1] - centres[a]))
        }
        let xs = (0..<width).map { bracket(Double($0), cx) }
        var out = [Float](repeating: 0, count: pixels.count)
        out.withUnsafeMutableBufferPointer { o in
            for y in 0..<height {
                let (b0, b1, ty) = bracket(Double(y), cy)
                for x in 0..<width {
                    let (a0, a1, tx) = xs[x]
                    let top = filtered[b0 * nx + a0] * (1 - tx) + filtered[b0 * nx + a1] * tx
                    let bottom = filtered[b1 * nx + a0] * (1 - tx) + filtered[b1 * nx + a1] * tx
                    o[y * width + x] = Float(top * (1 - ty) + bottom * ty)
                }
            }
        }
        return out
    }

    /// The sky level of one mesh (reorders `values`).
    static func meshLevel(_ values: inout [Float]) -> Double {
        var kept = values
        var median = 0.0, mean = 0.0, sigma = 0.0
        for _ in 0..<10 {
            let robust = RobustStatistics.medianAndSigma(&kept)
            median = Double(robust.median)
            mean = kept.reduce(0.0) { $0 + Double($1) } / Double(kept.count)
            sigma = robust.sigma
            guard sigma > 0 else { return median }
            let before = kept.count
            kept = kept.filter { abs(Double($0) - median) <= 3 * sigma }
            if kept.count == before || kept.count < 8 { break }
        }
        if kept.count >= 8 {
            median = Double(RobustStatistics.median(&kept))
            mean = kept.reduce(0.0) { $0 + Double($1) } / Double(kept.count)
        }
        return abs(mean - median) > 0.3 * sigma ? median : 2.5 * median - 1.5 * mean
    }

    // MARK: - PSF matching

    /// `pixels` convolved with a circular Gaussian of `sigma` pixels, normalised over the live
    /// pixels (a dead pixel contributes nothing; its neighbours are averaged from live ones).
    /// Pixels with no live pixel under the kernel keep their value.
    static func convolve(_ pixels: [Float], weights: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        guard sigma > 0 else { return pixels }
        let radius = max(1, Int((4 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let n = pixels.count
        var masked = [Double](repeating: 0, count: n), mask = [Double](repeating: 0, count: n)
        pixels.withUnsafeBufferPointer { p in
            weights.withUnsafeBufferPointer { w in
                for i in 0..<n where w[i] > 0 && p[i].isFinite {
                    masked[i] = Double(p[i])
                    mask[i] = 1
                }
            }
        }
        func pass(_ input: [Double], horizontal: Bool) -> [Double] {
            var out = [Double](repeating: 0, count: n)
            input.withUnsafeBufferPointer { a in
                kernel.withUnsafeBufferPointer { g in
                    out.withUnsafeMutableBufferPointer { o in
                        for y in 0..<height {
                            for x in 0..<width {
                                var sum = 0.0
                                if horizontal {
                                    let lo = max(-radius, -x), hi = min(radius, width - 1 - x)
                                    let row = y * width + x
                                    for d in lo...hi { sum += g[d + radius] * a[row + d] }
                                } else {
                                    let lo = max(-radius, -y), hi = min(radius, height - 1 - y)
                                    for d in lo...hi { sum += g[d + radius] * a[(y + d) * width + x] }
                                }
                                o[y * width + x] = sum
                            }
                        }
                    }
                }
            }
            return out
        }
        let numerator = pass(pass(masked, horizontal: true), horizontal: false)
        let denominator = pass(pass(mask, horizontal: true), horizontal: false)
        var out = pixels
        for i in 0..<n where denominator[i] > 1e-3 {
            out[i] = Float(numerator[i] / denominator[i])
        }
        return out
    }

    /// σ (pixels) of the Gaussian that takes a PSF of FWHM `sharp` to one of FWHM `broad`
    /// (Gaussian approximation: σ² adds), and which image gets it. Both FWHMs in the same pixels.
    static func matchingKernel(h2 fwhmH2: Double, k fwhmK: Double) -> (sigma: Double, smoothed: DiffProduct.Smoothed) {
        let sH2 = fwhmH2 / fwhmPerSigma, sK = fwhmK / fwhmPerSigma
        let difference = sK * sK - sH2 * sH2
        if abs(difference) < 0.01 { return (0, .none) }
        return difference > 0 ? (difference.squareRoot(), .h2) : ((-difference).squareRoot(), .k)
    }

    // MARK: - Measurements

    /// 1.4826 × MAD of the live pixels (about 2²⁰ of them at most, evenly spaced).
    static func robustSigma(_ pixels: [Float], weights: [Float]) -> Double {
        var values = RobustStatistics.liveSample(pixels, weights: weights)
        guard values.count > 1 else { return 0 }
        return RobustStatistics.medianAndSigma(&values).sigma
    }

    /// The median of the positive weights (0 when none).
    static func medianWeight(_ weights: [Float]) -> Double {
        var values = RobustStatistics.liveSample(weights, weights: weights)
        return values.isEmpty ? 0 : Double(RobustStatistics.median(&values))
    }

    /// The seeing (FWHM, pixels) of a background-subtracted image, for frames without SEEING:
    /// the median over bright (15σ), isolated peaks — the brightest fifth left out against
    /// saturation — of 2·√(A/π), A the area (pixels) above half the peak, the peak itself from a
    /// parabola through the 3×3 maximum in log space, less the width of a pixel. Nil when fewer
    /// than 3 peaks qualify.
    static func measureFWHM(_ pixels: [Float], weights: [Float], width: Int, height: Int, noise: Double) -> Double? {
        guard noise > 0, width > 24, height > 24 else { return nil }
        let border = 10, window = 6
        var candidates: [(peak: Float, x: Int, y: Int)] = []
        pixels.withUnsafeBufferPointer { p in
            weights.withUnsafeBufferPointer { w in
                for y in border..<(height - border) {
                    for x in border..<(width - border) {
                        let k = y * width + x
                        let v = p[k]
                        guard v > Float(15 * noise), w[k] > 0 else { continue }
                        var isMaximum = true
                        for dy in -1...1 {
                            for dx in -1...1 where !(dx == 0 && dy == 0) {
                                let q = p[k + dy * width + dx]
                                if q > v || (q == v && dy * width + dx < 0) { isMaximum = false }
                            }
                        }
                        if isMaximum { candidates.append((v, x, y)) }
                    }
                }
            }
        }
        guard candidates.count >= 3 else { return nil }
        // Skip the brightest fifth (saturation, bleeding) when there are many.
        candidates.sort { $0.peak > $1.peak }
        let usable = candidates.count >= 10 ? Array(candidates.dropFirst(candidates.count / 5)) : candidates
        var widths: [Double] = []
        for c in usable.prefix(200) {
            let isolated = candidates.allSatisfy { o in
                (o.x == c.x && o.y == c.y) || o.peak < c.peak / 20
                    || (o.x - c.x) * (o.x - c.x) + (o.y - c.y) * (o.y - c.y) > 12 * 12
            }
            guard isolated else { continue }
            func at(_ dx: Int, _ dy: Int) -> Double { Double(pixels[(c.y + dy) * width + c.x + dx]) }
            // Log-parabola peak along each axis.
            let centre = at(0, 0)
            guard at(-1, 0) > 0, at(1, 0) > 0, at(0, -1) > 0, at(0, 1) > 0 else { continue }
            func peakShift(_ a: Double, _ b: Double, _ c: Double) -> (shift: Double, logPeak: Double) {
                let (la, lb, lc) = (log(a), log(b), log(c))
                let curvature = la - 2 * lb + lc
                guard curvature < 0 else { return (0, lb) }
                let s = 0.5 * (la - lc) / curvature
                return (s, lb - 0.25 * (la - lc) * s)
            }
            let px = peakShift(at(-1, 0), centre, at(1, 0)), py = peakShift(at(0, -1), centre, at(0, 1))
            let peak = exp(px.logPeak + py.logPeak - log(centre))
            let half = peak / 2
            // Area above half maximum: each pixel counts by where the half level falls in a
            // ±25 % ramp about its value (smoother than a hard count); dead pixels count nothing,
            // but a dead pixel in the core spoils the star.
            var area = 0.0
            var deadCore = false
            for dy in -window...window {
                for dx in -window...window {
                    let k = (c.y + dy) * width + c.x + dx
                    guard weights[k] > 0 else {
                        if dx * dx + dy * dy <= 9 { deadCore = true }
                        continue
                    }
                    area += min(1, max(0, (Double(pixels[k]) / half - 0.75) / 0.5))
                }
            }
            guard !deadCore, area >= 2 else { continue }
            // Less the pixel's own width (variance 1/12 per axis).
            let fwhm2 = 4 * area / .pi - fwhmPerSigma * fwhmPerSigma / 12
            if fwhm2 > 0 { widths.append(fwhm2.squareRoot()) }
        }
        guard widths.count >= 3 else { return nil }
        widths.sort()
        return widths[widths.count / 2]
    }

    // MARK: - Confidence

    /// The difference's confidence: with variance per pixel
    /// V = σ_a² · m_a / c_a + s² · σ_b² · m_b / c_b (σ the measured pixel noise of each image as
    /// subtracted, c its confidence, m the median of its live confidences, s the K scale),
    /// confidence = 100 · (1/V) / median(1/V) over the live pixels, rounded, at least 1; 0
    /// where either confidence is 0 (dead in either frame, or no K coverage).
    static func confidence(h2 c1: [Float], noiseH2 sigma1: Double, k c2: [Float], noiseK sigma2: Double,
                           scale: Double) -> [Int16] {
        let m1 = medianWeight(c1), m2 = medianWeight(c2)
        let n = c1.count
        guard m1 > 0, m2 > 0 else { return [Int16](repeating: 0, count: n) }
        // Guard against a zero noise measurement (a constant image): equal parts then.
        let v1 = sigma1 > 0 ? sigma1 * sigma1 : 1, v2 = sigma2 > 0 ? scale * scale * sigma2 * sigma2 : 1
        var inverse = [Float](repeating: 0, count: n)
        for i in 0..<n where c1[i] > 0 && c2[i] > 0 && c1[i].isFinite && c2[i].isFinite {
            inverse[i] = Float(1 / (v1 * m1 / Double(c1[i]) + v2 * m2 / Double(c2[i])))
        }
        let median = medianWeight(inverse)
        guard median > 0 else { return [Int16](repeating: 0, count: n) }
        let factor = 100 / median
        return inverse.map { w in
            w > 0 ? Int16(max(1, min(32767, (Double(w) * factor).rounded()))) : 0
        }
    }
}
