import Foundation

/// The CASU catalogue columns (imcore, 80 × `1E`), in order, with their units.
public enum CatalogueColumns {
    /// Column names (TTYPE) in order.
    public static let names: [String] = {
        var n = ["Sequence_number", "Isophotal_flux", "X_coordinate", "X_coordinate_err",
                 "Y_coordinate", "Y_coordinate_err", "Gaussian_sigma", "Ellipticity", "Position_angle"]
        n += (1...8).map { "Areal_\($0)_profile" }
        n += ["Peak_height", "Peak_height_err"]
        for k in 1...13 { n += ["Aper_flux_\(k)", "Aper_flux_\(k)_err"] }
        n += ["Petr_radius", "Kron_radius", "Hall_radius", "Petr_flux", "Petr_flux_err",
              "Kron_flux", "Kron_flux_err", "Hall_flux", "Hall_flux_err", "Error_bit_flag",
              "Sky_level", "Sky_rms", "Av_conf", "RA", "DEC", "Classification", "Statistic"]
        n += (63...80).map { "Blank\($0)" }
        return n
    }()

    /// Units (TUNIT) in order, as imcore writes them.
    public static let units: [String] = {
        var u = ["Number", "ADU", "Pixels", "Pixels", "Pixels", "Pixels", "Pixels", "Number", "Degrees"]
        u += Array(repeating: "Pixels", count: 8)
        u += ["ADU", "ADU"]
        u += Array(repeating: "ADU", count: 26)
        u += ["Pixels", "Pixels", "Pixels", "ADU", "ADU", "ADU", "ADU", "ADU", "ADU",
              "Number", "ADU", "ADU", "Number", "Radians", "Radians", "Flag", "N-sigma"]
        u += (63...80).map { "Blank\($0)" }
        return u
    }()

    /// 0-based index of a column by name.
    public static func index(_ name: String) -> Int { positions[name]! }

    static let positions: [String: Int] = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })

    /// Aperture radius multipliers m_k (r_k = m_k · RCORE).
    public static let apertureMultipliers: [Double] = [0.5, 1 / 2.0.squareRoot(), 1, 2.0.squareRoot(), 2,
                                                       2 * 2.0.squareRoot(), 4, 5, 6, 7, 8, 10, 12]
}

/// One detected object: 80 values in catalogue column order (RA/DEC filled in later from the WCS).
public struct CatalogueRow: Sendable {
    public var values: [Float]
    public init() { values = [Float](repeating: 0, count: 80) }
    public subscript(_ name: String) -> Float {
        get { values[CatalogueColumns.index(name)] }
        set { values[CatalogueColumns.index(name)] = newValue }
    }
}

/// What the extractor found on one detector.
public struct Extraction: Sendable {
    public var rows: [CatalogueRow]
    /// Median background (ADU) and its noise (ADU) as measured.
    public var skyLevel: Double
    public var skyNoise: Double
    /// Isophote threshold (ADU above sky).
    public var threshold: Double
    /// Median ellipticity of bright stellar objects.
    public var ellipticity: Double
}

/// An imcore-like source extractor: background map, Gaussian-filtered detection above an
/// isophote, simple deblending, then moments, apertures, radii and classification measured on
/// the pixels.
public struct Extractor: Sendable {
    public var size: Int
    /// Seeing FWHM, pixels (detection filter and windowed centroids).
    public var fwhm: Double
    /// Core radius, pixels.
    public var rcore: Double = 2.5
    /// Effective gain of the stack, e⁻/ADU (gain × combined exposures).
    public var effectiveGain: Double
    public var saturation: Double
    /// Isophote in units of the sky noise, and the peak significance needed on the filtered image.
    public var isophoteSigma: Double = 1.5
    public var peakSigma: Double = 5.0
    /// Minimum number of pixels above the isophote.
    public var minimumArea: Int = 4
    /// The stellar value of 2.5 log10(F5/F3) from the PSF, used when too few bright objects exist.
    public var stellarConcentration: Double

    public init(size: Int, fwhm: Double, effectiveGain: Double, saturation: Double, stellarConcentration: Double) {
        self.size = size
        self.fwhm = fwhm
        self.effectiveGain = effectiveGain
        self.saturation = saturation
        self.stellarConcentration = stellarConcentration
    }

    /// Runs detection and measurement on integer pixels with their confidence map.
    public func extract(pixels: [Int32], conf: [Int16]) -> Extraction {
        let n = size
        let good = conf.map { $0 > 0 }
        let data = pixels.map { Float($0) }
        let (bg, sigmaMap, skyLevel, sigma) = background(data: data, good: good)
        var residual = [Float](repeating: 0, count: n * n)
        residual.withUnsafeMutableBufferPointer { r in
            data.withUnsafeBufferPointer { d in
                bg.withUnsafeBufferPointer { b in
                    good.withUnsafeBufferPointer { g in
                        for k in 0..<(n * n) where g[k] { r[k] = d[k] - b[k] }
                    }
                }
            }
        }

        // Detection on the filtered image.
        let sk = fwhm / 2.3548
        let kr = max(1, Int((3 * sk).rounded(.up)))
        var kernel = (-kr...kr).map { Float(exp(-Double($0 * $0) / (2 * sk * sk))) }
        let ksum = kernel.reduce(0, +)
        kernel = kernel.map { $0 / ksum }
        let k2 = kernel.reduce(0) { $0 + Double($1 * $1) }
        let sigmaS = sigma * k2  // noise of the filtered image: σ · Σk² for a separable kernel
        // Filtered image in units scaled to the confidence: where fewer exposures cover a pixel
        // (low confidence at the jittered edges) the noise is higher by √(100/conf).
        var smooth = convolve(residual, kernel: kernel)
        for k in 0..<(n * n) where good[k] && conf[k] < 100 {
            smooth[k] *= Float((Double(conf[k]) / 100).squareRoot())
        }
        let threshold = isophoteSigma * sigma
        let detectLevel = Float(isophoteSigma * sigmaS), peakLevel = Float(peakSigma * sigmaS)

        // Pixels above the isophote, not yet assigned to an object (cleared as they are taken).
        var open = [UInt8](repeating: 0, count: n * n)
        smooth.withUnsafeBufferPointer { sm in
            good.withUnsafeBufferPointer { gd in
                for k in 0..<(n * n) where gd[k] && sm[k] > detectLevel { open[k] = 1 }
            }
        }
        var rows: [CatalogueRow] = []
        var stack: [Int] = []
        var component: [Int] = []
        var objects: [[Int]] = []
        var start = 0
        while true {
            // Next unassigned pixel above the isophote, in raster order.
            let found: Int? = open.withUnsafeBufferPointer { o in
                var k = start
                while k < n * n && o[k] == 0 { k += 1 }
                return k < n * n ? k : nil
            }
            guard let seed = found else { break }
            start = seed + 1
            component.removeAll(keepingCapacity: true)
            stack.append(seed)
            open[seed] = 0
            var peak: Float = -.infinity
            open.withUnsafeMutableBufferPointer { o in
                smooth.withUnsafeBufferPointer { sm in
                    while let p = stack.popLast() {
                        component.append(p)
                        peak = max(peak, sm[p])
                        let i = p % n, j = p / n
                        for jj in max(0, j - 1)...min(n - 1, j + 1) {
                            for ii in max(0, i - 1)...min(n - 1, i + 1) {
                                let q = jj * n + ii
                                if o[q] != 0 {
                                    o[q] = 0
                                    stack.append(q)
                                }
                            }
                        }
                    }
                }
            }
            guard component.count >= minimumArea, peak >= peakLevel else { continue }
            for part in deblend(component, smooth: smooth, peakLevel: peakLevel, sigmaS: Float(sigmaS)) {
                objects.append(part)
            }
        }
        var saturated: [Bool] = []
        for pixelsOfObject in objects {
            if let m = measure(pixelsOfObject, residual: residual, good: good, conf: conf, bg: bg,
                               sigmaMap: sigmaMap, sigma: sigma, threshold: threshold) {
                rows.append(m.row)
                saturated.append(m.saturated)
            }
        }
        classify(&rows, saturated: saturated)
        for k in rows.indices { rows[k]["Sequence_number"] = Float(k + 1) }
        let ells = rows.filter { $0["Classification"] == -1 && $0["Aper_flux_3"] > 20 * $0["Aper_flux_3_err"] }
            .map { $0["Ellipticity"] }
        var e = ells
        let ell = e.isEmpty ? 0 : Double(Select.median(&e))
        return Extraction(rows: rows, skyLevel: skyLevel, skyNoise: sigma, threshold: threshold, ellipticity: ell)
    }

    // MARK: Background

    /// Background and noise: sigma-clipped medians in cells, median-filtered, bilinearly
    /// interpolated. Returns the map, the per-pixel noise map, the median sky and the median noise.
    func background(data: [Float], good: [Bool]) -> ([Float], [Float], Double, Double) {
        let n = size
        let cell = n >= 512 ? 64 : max(16, n / 8)
        let nc = (n + cell - 1) / cell
        var levels = [Float](repeating: 0, count: nc * nc), noises = [Float](repeating: 0, count: nc * nc)
        var values: [Float] = []
        values.reserveCapacity(cell * cell)
        for cj in 0..<nc {
            for ci in 0..<nc {
                values.removeAll(keepingCapacity: true)
                // A quarter of the pixels (a checkerboard of every other row): plenty for a robust
                // median at a fraction of the cost.
                for j in stride(from: cj * cell, to: min(n, (cj + 1) * cell), by: cell >= 64 ? 2 : 1) {
                    for i in stride(from: ci * cell + ((j >> 1) & 1), to: min(n, (ci + 1) * cell), by: 2) where good[j * n + i] {
                        values.append(data[j * n + i])
                    }
                }
                var (m, s) = Self.clippedStats(values)
                if values.isEmpty { m = .nan; s = .nan }
                levels[cj * nc + ci] = m
                noises[cj * nc + ci] = s
            }
        }
        // Fill empty cells with the global median, then a 3×3 median filter.
        var finite = levels.filter { $0.isFinite }
        let globalLevel = finite.isEmpty ? 0 : Select.median(&finite)
        var finiteNoise = noises.filter { $0.isFinite && $0 > 0 }
        let globalNoise = finiteNoise.isEmpty ? 1 : Select.median(&finiteNoise)
        for k in levels.indices where !levels[k].isFinite { levels[k] = globalLevel; noises[k] = globalNoise }
        func filtered(_ grid: [Float]) -> [Float] {
            var out = grid
            var window: [Float] = []
            for cj in 0..<nc {
                for ci in 0..<nc {
                    window.removeAll(keepingCapacity: true)
                    for dj in -1...1 {
                        for di in -1...1 {
                            let a = ci + di, b = cj + dj
                            if a >= 0 && a < nc && b >= 0 && b < nc { window.append(grid[b * nc + a]) }
                        }
                    }
                    out[cj * nc + ci] = Select.median(&window)
                }
            }
            return out
        }
        if nc >= 3 {
            levels = filtered(levels)
            noises = filtered(noises)
        }
        // Bilinear interpolation between cell centres (weights per column computed once).
        var x0s = [Int](repeating: 0, count: n), x1s = [Int](repeating: 0, count: n), wxs = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let gx = min(max((Double(i) + 0.5) / Double(cell) - 0.5, 0), Double(nc - 1))
            x0s[i] = min(Int(gx), nc - 1); x1s[i] = min(x0s[i] + 1, nc - 1); wxs[i] = Float(gx - Double(x0s[i]))
        }
        func interpolate(_ grid: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n * n)
            var rowA = [Float](repeating: 0, count: nc)
            out.withUnsafeMutableBufferPointer { o in
                for j in 0..<n {
                    let gy = min(max((Double(j) + 0.5) / Double(cell) - 0.5, 0), Double(nc - 1))
                    let y0 = min(Int(gy), nc - 1), y1 = min(y0 + 1, nc - 1)
                    let wy = Float(gy - Double(y0))
                    for c in 0..<nc {
                        rowA[c] = grid[y0 * nc + c] * (1 - wy) + grid[y1 * nc + c] * wy
                    }
                    let base = j * n
                    for i in 0..<n {
                        let w = wxs[i]
                        o[base + i] = rowA[x0s[i]] * (1 - w) + rowA[x1s[i]] * w
                    }
                }
            }
            return out
        }
        var lv = levels, nv = noises
        return (interpolate(levels), interpolate(noises), Double(Select.median(&lv)), Double(Select.median(&nv)))
    }

    /// Median and robust σ with iterative 3σ clipping (upper side 2.5σ, to resist sources).
    static func clippedStats(_ input: [Float]) -> (Float, Float) {
        guard !input.isEmpty else { return (0, 0) }
        var v = input
        var m = Select.median(&v)
        var s: Float = 0
        var dev = [Float](repeating: 0, count: v.count)
        for _ in 0..<2 {
            dev.removeAll(keepingCapacity: true)
            for x in v { dev.append(abs(x - m)) }
            s = 1.4826 * Select.median(&dev)
            if s <= 0 { break }
            let lo = m - 3 * s, hi = m + 2.5 * s
            var kept = 0
            for x in v where x >= lo && x <= hi { v[kept] = x; kept += 1 }
            if kept == v.count || kept < 5 { break }
            v.removeLast(v.count - kept)
            m = Select.median(&v)
        }
        // The upper clip biases the median low for pure noise by a tiny amount; negligible here.
        return (m, s)
    }

    // MARK: Filtering

    /// Separable convolution with a normalised 1-D kernel (zero outside the image).
    func convolve(_ image: [Float], kernel: [Float]) -> [Float] {
        let n = size, r = kernel.count / 2
        var tmp = [Float](repeating: 0, count: n * n), out = [Float](repeating: 0, count: n * n)
        kernel.withUnsafeBufferPointer { k in
            // Along rows: clamped at the edges, unchecked in the interior.
            image.withUnsafeBufferPointer { src in
                tmp.withUnsafeMutableBufferPointer { dst in
                    for j in 0..<n {
                        let row = j * n
                        for i in 0..<n {
                            var s: Float = 0
                            if i >= r && i < n - r {
                                let b = row + i - r
                                for t in 0..<(2 * r + 1) { s += k[t] * src[b + t] }
                            } else {
                                for t in max(-r, -i)...min(r, n - 1 - i) { s += k[t + r] * src[row + i + t] }
                            }
                            dst[row + i] = s
                        }
                    }
                }
            }
            // Along columns: whole rows at a time (contiguous, vectorisable).
            tmp.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for j in 0..<n {
                        let o = j * n
                        for t in max(-r, -j)...min(r, n - 1 - j) {
                            let w = k[t + r], b = (j + t) * n
                            for i in 0..<n { dst[o + i] += w * src[b + i] }
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: Deblending

    /// Splits a connected region with several significant, well-separated peaks: each pixel goes
    /// to the peak whose Gaussian-weighted height there is largest.
    func deblend(_ region: [Int], smooth: [Float], peakLevel: Float, sigmaS: Float) -> [[Int]] {
        let n = size
        guard region.count >= 2 * minimumArea else { return [region] }
        var inRegion = Set<Int>()
        if region.count < 20000 { inRegion = Set(region) } else { return [region] }
        var peaks: [Int] = []
        for p in region {
            let v = smooth[p]
            if v < peakLevel { continue }
            let i = p % n, j = p / n
            var isMax = true
            for dj in -1...1 where isMax {
                for di in -1...1 where !(di == 0 && dj == 0) {
                    let ii = i + di, jj = j + dj
                    if ii < 0 || jj < 0 || ii >= n || jj >= n { continue }
                    let q = jj * n + ii
                    if smooth[q] > v || (smooth[q] == v && q < p) { isMax = false; break }
                }
            }
            if isMax { peaks.append(p) }
        }
        guard peaks.count > 1 else { return [region] }
        peaks.sort { smooth[$0] > smooth[$1] }
        var accepted: [Int] = []
        for p in peaks {
            let px = Double(p % n), py = Double(p / n)
            var separate = true
            for q in accepted {
                let qx = Double(q % n), qy = Double(q / n)
                let d = ((px - qx) * (px - qx) + (py - qy) * (py - qy)).squareRoot()
                if d < fwhm { separate = false; break }
                // Lowest filtered value on the straight line between the peaks.
                let steps = max(2, Int(d.rounded(.up)) * 2)
                var lowest = Float.infinity
                for s in 0...steps {
                    let t = Double(s) / Double(steps)
                    let x = Int((px + (qx - px) * t).rounded()), y = Int((py + (qy - py) * t).rounded())
                    let idx = y * n + x
                    lowest = min(lowest, inRegion.contains(idx) ? smooth[idx] : 0)
                }
                let lower = min(smooth[p], smooth[q])
                if lower - lowest < max(3 * sigmaS, 0.15 * lower) { separate = false; break }
            }
            if separate { accepted.append(p) }
        }
        guard accepted.count > 1 else { return [region] }
        let s2 = 2 * pow(1.2 * fwhm / 2.3548, 2)
        var parts = [[Int]](repeating: [], count: accepted.count)
        for p in region {
            let x = Double(p % n), y = Double(p / n)
            var best = 0
            var bestValue = -Double.infinity
            for (k, q) in accepted.enumerated() {
                let dx = x - Double(q % n), dy = y - Double(q / n)
                let w = Double(smooth[q]) * exp(-(dx * dx + dy * dy) / s2)
                if w > bestValue { bestValue = w; best = k }
            }
            parts[best].append(p)
        }
        return parts.filter { $0.count >= minimumArea }
    }

    // MARK: Measurement

    func measure(_ region: [Int], residual: [Float], good: [Bool], conf: [Int16], bg: [Float],
                 sigmaMap: [Float], sigma: Double, threshold: Double) -> (row: CatalogueRow, saturated: Bool)? {
        let n = size
        var sum = 0.0, sw = 0.0, sx = 0.0, sy = 0.0
        var peak = -Double.infinity, peakIndex = region[0]
        for p in region {
            let v = Double(residual[p])
            sum += v
            if v > peak { peak = v; peakIndex = p }
            let w = max(v, 0)
            sw += w
            sx += w * Double(p % n + 1)
            sy += w * Double(p / n + 1)
        }
        guard sw > 0 else { return nil }
        let xIso = sx / sw, yIso = sy / sw
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        var areal = [Int](repeating: 0, count: 8)
        for p in region {
            let v = Double(residual[p])
            let w = max(v, 0)
            let dx = Double(p % n + 1) - xIso, dy = Double(p / n + 1) - yIso
            sxx += w * dx * dx; syy += w * dy * dy; sxy += w * dx * dy
            for k in 0..<8 where v > threshold * pow(2, Double(k)) { areal[k] += 1 }
        }
        sxx /= sw; syy /= sw; sxy /= sw
        if areal[0] < minimumArea / 2 { return nil }

        // Windowed (Gaussian-weighted) centroid, started at the isophotal one.
        var (cx, cy) = (xIso, yIso)
        let sw2 = 2 * pow(fwhm / 2.3548, 2)
        let box = Int((4 * fwhm / 2.3548).rounded(.up)) + 1  // 4σ of the window
        var converged = false
        for _ in 0..<30 {
            var w0 = 0.0, wx = 0.0, wy = 0.0
            let ic = Int(cx.rounded()) - 1, jc = Int(cy.rounded()) - 1
            for j in stride(from: max(0, jc - box), through: min(n - 1, jc + box), by: 1) {
                for i in stride(from: max(0, ic - box), through: min(n - 1, ic + box), by: 1) where good[j * n + i] {
                    let dx = Double(i + 1) - cx, dy = Double(j + 1) - cy
                    let w = exp(-(dx * dx + dy * dy) / sw2) * Double(residual[j * n + i])
                    w0 += w; wx += w * dx; wy += w * dy
                }
            }
            guard w0 > 0 else { break }
            let ddx = wx / w0, ddy = wy / w0
            cx += ddx; cy += ddy
            if ddx * ddx + ddy * ddy < 1e-8 { converged = true; break }
        }
        if !converged || (cx - xIso) * (cx - xIso) + (cy - yIso) * (cy - yIso) > 2.25 {
            cx = xIso; cy = yIso
        }

        var row = CatalogueRow()
        row["Isophotal_flux"] = Float(sum)
        row["X_coordinate"] = Float(cx)
        row["Y_coordinate"] = Float(cy)
        let srr = max(0.5, sxx + syy)
        // Shape (ellipticity 1 − b/a, angle of the major axis from x) from Gaussian-windowed second
        // moments with the window divided out (C = (M⁻¹ − W⁻¹)⁻¹), which are far less noisy than
        // isophotal ones; isophotal moments when that is ill-conditioned.
        let ww = pow(1.5 * fwhm / 2.3548, 2)
        var mw0 = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
        let wb = Int((6 * fwhm / 2.3548).rounded(.up)) + 1  // 4σ of the window
        let icw = Int(cx.rounded()) - 1, jcw = Int(cy.rounded()) - 1
        for j in stride(from: max(0, jcw - wb), through: min(n - 1, jcw + wb), by: 1) {
            for i in stride(from: max(0, icw - wb), through: min(n - 1, icw + wb), by: 1) where good[j * n + i] {
                let dx = Double(i + 1) - cx, dy = Double(j + 1) - cy
                let w = exp(-(dx * dx + dy * dy) / (2 * ww)) * Double(residual[j * n + i])
                mw0 += w; mxx += w * dx * dx; myy += w * dy * dy; mxy += w * dx * dy
            }
        }
        var shape = (sxx, syy, sxy)
        if mw0 > 0 {
            mxx /= mw0; myy /= mw0; mxy /= mw0
            let det = mxx * myy - mxy * mxy
            if det > 1e-6 && mxx > 0 && myy > 0 {
                // M⁻¹ − W⁻¹, then invert.
                let ixx = myy / det - 1 / ww, iyy = mxx / det - 1 / ww, ixy = -mxy / det
                let d2 = ixx * iyy - ixy * ixy
                if d2 > 1e-9 && ixx > 0 && iyy > 0 {
                    shape = (iyy / d2, ixx / d2, -ixy / d2)
                }
            }
        }
        let (qxx, qyy, qxy) = shape
        let ecc = min(1, ((qxx - qyy) * (qxx - qyy) + 4 * qxy * qxy).squareRoot() / max(qxx + qyy, 1e-6))
        let ell = min(0.99, max(0, 1 - ((1 - ecc) / (1 + ecc)).squareRoot()))
        var theta = 0.5 * atan2(2 * qxy, qxx - qyy) * 180 / .pi
        if theta < 0 { theta += 180 }
        row["Gaussian_sigma"] = Float(srr.squareRoot())
        row["Ellipticity"] = Float(ell)
        row["Position_angle"] = Float(theta)
        for k in 0..<8 { row["Areal_\(k + 1)_profile"] = Float(areal[k]) }
        let pidx = peakIndex
        let localSigma = Double(sigmaMap[pidx])
        let g = effectiveGain
        row["Peak_height"] = Float(peak)
        row["Peak_height_err"] = Float((max(peak, 0) / g + localSigma * localSigma).squareRoot())

        // Apertures.
        let radii = CatalogueColumns.apertureMultipliers.map { $0 * rcore }
        let ap = Aperture.fluxes(image: residual, width: n, height: n, cx: cx, cy: cy, radii: radii,
                                 good: good, conf: conf)
        func fluxError(_ f: Double, _ r: Double) -> Double {
            (max(f, 0) / g + .pi * r * r * localSigma * localSigma).squareRoot()
        }
        for k in 0..<13 {
            row["Aper_flux_\(k + 1)"] = Float(ap.flux[k])
            row["Aper_flux_\(k + 1)_err"] = Float(fluxError(ap.flux[k], radii[k]))
        }
        // Position errors from the shape and the signal-to-noise.
        // σ_x² ≈ s_x² (1/(F g) + 8π s_x s_y σ²/F²): photon noise plus sky noise over the profile.
        let total = max(ap.flux[4], 1e-3)
        let sxe = max(sxx, 0.25), sye = max(syy, 0.25)
        let area = 8 * Double.pi * (sxe * sye).squareRoot()
        let noiseTerm = 1 / (total * g) + area * localSigma * localSigma / (total * total)
        row["X_coordinate_err"] = Float((sxe * noiseTerm + 1e-4).squareRoot())
        row["Y_coordinate_err"] = Float((sye * noiseTerm + 1e-4).squareRoot())

        // Kron: first-moment radius within a generous circle; flux within twice it.
        let rIso = (Double(max(areal[0], 1)) / .pi).squareRoot()
        let rMax = min(max(3 * rIso, 2 * rcore), 12 * rcore)
        var m0 = 0.0, m1 = 0.0
        let ib = Int(rMax.rounded(.up)) + 1
        let ic = Int(cx.rounded()) - 1, jc = Int(cy.rounded()) - 1
        for j in stride(from: max(0, jc - ib), through: min(n - 1, jc + ib), by: 1) {
            for i in stride(from: max(0, ic - ib), through: min(n - 1, ic + ib), by: 1) where good[j * n + i] {
                let dx = Double(i + 1) - cx, dy = Double(j + 1) - cy
                let r = (dx * dx + dy * dy).squareRoot()
                if r > rMax { continue }
                let v = Double(residual[j * n + i])
                m0 += v; m1 += v * r
            }
        }
        let r1 = m0 > 0 ? max(0.5, m1 / m0) : rcore
        let kronIntegration = min(max(2 * r1, 2 * rcore), 12 * rcore)
        // Petrosian from the curve of growth: η = local / mean surface brightness = 0.2.
        var petrosian = radii[12] / 2
        for k in 1..<12 {
            let local = (ap.flux[k + 1] - ap.flux[k - 1]) / (.pi * (radii[k + 1] * radii[k + 1] - radii[k - 1] * radii[k - 1]))
            let mean = ap.flux[k] / (.pi * radii[k] * radii[k])
            guard mean > 0 else { break }
            let eta = local / mean
            if eta < 0.2 {
                if k > 1 {
                    let prevLocal = (ap.flux[k] - ap.flux[k - 2]) / (.pi * (radii[k] * radii[k] - radii[k - 2] * radii[k - 2]))
                    let prevMean = ap.flux[k - 1] / (.pi * radii[k - 1] * radii[k - 1])
                    let prevEta = prevMean > 0 ? prevLocal / prevMean : 1
                    let t = prevEta > eta ? (prevEta - 0.2) / (prevEta - eta) : 1
                    petrosian = radii[k - 1] + min(max(t, 0), 1) * (radii[k] - radii[k - 1])
                } else {
                    petrosian = radii[k]
                }
                break
            }
        }
        let petrosianIntegration = min(max(2 * petrosian, 2 * rcore), 12 * rcore)
        // Hall: exponential profile through the peak and the isophotal area.
        var scale = rcore
        if peak > threshold && areal[0] > 0 {
            scale = rIso / log(peak / threshold)
        }
        scale = min(max(scale, 0.5), 3 * rcore)
        let hallIntegration = min(max(5 * scale, 2 * rcore), 12 * rcore)
        let extra = Aperture.fluxes(image: residual, width: n, height: n, cx: cx, cy: cy,
                                    radii: [petrosianIntegration, kronIntegration, hallIntegration], good: good)
        row["Petr_radius"] = Float(petrosianIntegration / 2)
        row["Kron_radius"] = Float(kronIntegration / 2)
        row["Hall_radius"] = Float(hallIntegration)
        row["Petr_flux"] = Float(extra.flux[0])
        row["Petr_flux_err"] = Float(fluxError(extra.flux[0], petrosianIntegration))
        row["Kron_flux"] = Float(extra.flux[1])
        row["Kron_flux_err"] = Float(fluxError(extra.flux[1], kronIntegration))
        row["Hall_flux"] = Float(extra.flux[2])
        row["Hall_flux_err"] = Float(fluxError(extra.flux[2], hallIntegration))
        row["Error_bit_flag"] = Float(ap.bad[2])
        let ixc = min(max(Int(cx.rounded()) - 1, 0), n - 1), iyc = min(max(Int(cy.rounded()) - 1, 0), n - 1)
        row["Sky_level"] = bg[iyc * n + ixc]
        row["Sky_rms"] = sigmaMap[iyc * n + ixc]
        row["Av_conf"] = ap.confCount[2] > 0 ? Float(ap.confSum[2] / Double(ap.confCount[2])) : 0
        // Saturated: the peak plus the sky reaches the saturation level.
        return (row, peak + Double(bg[pidx]) >= 0.98 * saturation)
    }

    // MARK: Classification

    /// Classifies by the concentration 2.5 log10(F(2 rcore)/F(rcore)) against the stellar locus
    /// (the densest value among bright unsaturated objects, or the PSF's): −1 stellar, −2
    /// borderline, +1 extended, 0 noise. Statistic is the N(0,1) distance from the locus.
    func classify(_ rows: inout [CatalogueRow], saturated: [Bool]) {
        func concentration(_ r: CatalogueRow) -> (Double, Double)? {
            let f3 = Double(r["Aper_flux_3"]), f5 = Double(r["Aper_flux_5"])
            guard f3 > 0, f5 > 0 else { return nil }
            let e3 = Double(r["Aper_flux_3_err"]) / f3, e5 = Double(r["Aper_flux_5_err"]) / f5
            return (2.5 * log10(f5 / f3), 1.0857 * (e3 * e3 + e5 * e5).squareRoot())
        }
        var bright: [Double] = []
        for (r, sat) in zip(rows, saturated) where !sat {
            if let (c, e) = concentration(r), e < 0.02 { bright.append(c) }
        }
        var locus = stellarConcentration
        if bright.count >= 10 {
            bright.sort()
            // Densest window of 0.04 mag: the stars pile up there; galaxies spread above it.
            var best = 0, bestCount = 0, j = 0
            for i in bright.indices {
                while bright[i] - bright[j] > 0.04 { j += 1 }
                if i - j + 1 > bestCount { bestCount = i - j + 1; best = j }
            }
            let window = bright[best..<(best + bestCount)]
            let candidate = window.reduce(0, +) / Double(window.count)
            if bestCount >= 5 && abs(candidate - stellarConcentration) < 0.15 { locus = candidate }
        }
        for k in rows.indices {
            let saturated = saturated[k]
            guard let (c, e) = concentration(rows[k]) else {
                rows[k]["Classification"] = 0
                rows[k]["Statistic"] = 0
                continue
            }
            let stat = (c - locus) / (e * e + 0.015 * 0.015).squareRoot()
            rows[k]["Statistic"] = Float(stat)
            let ell = Double(rows[k]["Ellipticity"])
            let snr = Double(rows[k]["Aper_flux_3"] / max(rows[k]["Aper_flux_3_err"], 1e-6))
            let cls: Float
            if saturated {
                cls = ell < 0.3 ? -1 : 1
            } else if snr < 3 || stat < -5 || ell > 0.9 {
                cls = 0
            } else if abs(stat) <= 2.5 {
                cls = ell > 0.5 ? -2 : -1
            } else if stat <= 4 {
                cls = -2
            } else {
                cls = 1
            }
            rows[k]["Classification"] = cls
        }
    }
}
