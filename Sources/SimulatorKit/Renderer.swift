import FITS
import Foundation

/// Observing conditions of one detector of one frame (they scatter slightly about the frame's).
public struct DetectorConditions: Sendable {
    public var camnum: Int
    /// PSF FWHM, pixels (the SEEING keyword).
    public var seeing: Double
    /// MAGZPT of this detector.
    public var zeroPoint: Double
    /// Mean sky, ADU, and its linear gradient across the detector (fraction per detector width).
    public var skyLevel: Double
    public var skyGradientX: Double
    public var skyGradientY: Double
    public var gain: Double
    public var readNoise: Double
    /// Expected sky noise (ADU) of the stack where the confidence is 100.
    public var expectedSkyNoise: Double

    /// Conditions derived from the frame and a per-detector stream of the seed.
    public init(frame: FrameSpec, camnum: Int, seed: UInt64, pixelScale: Double) {
        var rng = Xoshiro256(seed: seed, "detector", frame.identity, camnum)
        self.camnum = camnum
        let fwhmArcsec = frame.seeing * (1 + 0.025 * rng.gaussian())
        seeing = ((fwhmArcsec / pixelScale) * 1000).rounded() / 1000
        zeroPoint = ((frame.zeroPoint + 0.01 * rng.gaussian()) * 10000).rounded() / 10000
        let band = frame.passband
        let pixelMag = band.skyBrightness - 2.5 * log10(pixelScale * pixelScale)
        skyLevel = frame.expTime * pow(10, 0.4 * (zeroPoint - pixelMag)) * frame.skyFactor * (1 + 0.02 * rng.gaussian())
        skyGradientX = 0.004 * rng.gaussian()
        skyGradientY = 0.004 * rng.gaussian()
        gain = DetectorDefects.gain[camnum - 1]
        readNoise = DetectorDefects.readNoise[camnum - 1]
        expectedSkyNoise = ((gain * skyLevel + readNoise * readNoise) / (Double(frame.njitter) * gain * gain)).squareRoot()
    }

    /// Total counts (ADU) of a source of magnitude `mag` in this detector's frame.
    public func flux(mag: Double, frame: FrameSpec) -> Double {
        frame.expTime * pow(10, 0.4 * (zeroPoint - frame.passband.extinction * (frame.airmass - 1) - mag))
    }
}

/// One source drawn on a detector, as recorded in the truth tables.
public struct TruthHit: Sendable {
    public var sourceID: Int64
    /// FITS pixel position (1-based) of the source at the frame's epoch.
    public var x: Double
    public var y: Double
    /// Total counts drawn (ADU) and the magnitude they correspond to.
    public var flux: Double
    public var mag: Double
    public var type: SourceType
}

/// The pixels of one detector before and after noise.
struct RenderedDetector {
    var pixels: [Int32]
    var hits: [TruthHit]
}

/// Draws the sky, the sources (Moffat stars, PSF-convolved Sérsic galaxies and knots) and the
/// noise of one detector.
enum Renderer {
    static func render(frame: FrameSpec, conditions c: DetectorConditions, defects: DetectorDefects,
                       conf: [Int16], population: SkyPopulation, wcs: WCS, psf: MoffatPSF,
                       rotation r: (a: Double, b: Double, c: Double, d: Double),
                       pixelScale: Double, seed: UInt64) throws -> RenderedDetector {
        let n = defects.size
        var model = [Float](repeating: 0, count: n * n)
        // Sky with a gentle gradient.
        let gxs = (0..<n).map { c.skyGradientX * ((Double($0) + 0.5) / Double(n) - 0.5) }
        model.withUnsafeMutableBufferPointer { m in
            for j in 0..<n {
                let gy = c.skyGradientY * ((Double(j) + 0.5) / Double(n) - 0.5)
                for i in 0..<n { m[j * n + i] = Float(c.skyLevel * (1 + gxs[i] + gy)) }
            }
        }
        let band = frame.passband
        let epoch = frame.epoch

        // Candidates: sources whose position at this epoch lies near the detector.
        let centre = try wcs.pixelToSky(PixelPosition(x: (Double(n) + 1) / 2, y: (Double(n) + 1) / 2))
        let reach = (Double(n) * 0.75 + MoffatPSF.maxRadius) * pixelScale / 3600
        let cosDec = cos(centre.dec * .pi / 180)
        var candidates: [(SkySource, SkyPosition)] = []
        for s in population.sources {
            let m = s.mag(band)
            guard m.isFinite else { continue }
            let p = s.position(epoch: epoch)
            if abs(p.dec - centre.dec) > reach { continue }
            var dra = p.ra - centre.ra
            if dra > 180 { dra -= 360 } else if dra < -180 { dra += 360 }
            if abs(dra * cosDec) > reach { continue }
            candidates.append((s, p))
        }
        let positions = try wcs.skyToPixel(candidates.map { $0.1 })
        var hits: [TruthHit] = []
        let floor = 0.05 * c.expectedSkyNoise
        model.withUnsafeMutableBufferPointer { image in
            for (k, (source, _)) in candidates.enumerated() {
                let x = positions[k].x, y = positions[k].y
                guard x.isFinite, y.isFinite else { continue }
                let margin = MoffatPSF.maxRadius
                if x < -margin || y < -margin || x > Double(n) + margin || y > Double(n) + margin { continue }
                let mag = source.mag(band)
                let flux = c.flux(mag: mag, frame: frame)
                if source.isPointSource {
                    psf.addStar(to: image, width: n, height: n, x: x, y: y, flux: flux,
                                radius: psf.stampRadius(flux: flux, floor: floor))
                } else {
                    // Major-axis direction on the detector from the position angle (east of north).
                    let t = source.positionAngle * .pi / 180
                    let xi = sin(t), eta = cos(t)
                    let phi = atan2(r.c * xi + r.a * eta, -(r.d * xi + r.b * eta))
                    addExtended(to: image, width: n, height: n, x: x, y: y, flux: flux,
                                effectiveRadius: source.effectiveRadius / pixelScale,
                                axisRatio: source.axisRatio, angle: phi, sersic: source.sersicIndex,
                                psfSigma: c.seeing / 2.3548, noise: c.expectedSkyNoise)
                }
                if x >= 0.5 && x < Double(n) + 0.5 && y >= 0.5 && y < Double(n) + 0.5 {
                    hits.append(TruthHit(sourceID: source.id, x: x, y: y, flux: flux, mag: mag, type: source.type))
                }
            }
        }

        // Noise: Poisson (Gaussian approximation) on sky + sources, read noise, the stack of
        // NJITTER exposures, and lower coverage where the confidence is lower. Then saturation.
        var rng = Xoshiro256(seed: seed, "noise", frame.identity, c.camnum)
        let g = c.gain, rn2 = c.readNoise * c.readNoise, nj = Double(frame.njitter)
        let sat = DetectorDefects.saturation
        // variance = (g·m + RN²)/(NJITTER·g²) · 100/conf, with 100/conf from a table.
        let a = 1 / (nj * g), b = rn2 / (nj * g * g)
        let maxConf = Int(conf.max() ?? 100)
        let coverage = (0...max(maxConf, 1)).map { 100 / Double(max($0, 1)) }
        var pixels = [Int32](repeating: 0, count: n * n)
        pixels.withUnsafeMutableBufferPointer { out in
            model.withUnsafeBufferPointer { mod in
                conf.withUnsafeBufferPointer { cf in
                    defects.dead.withUnsafeBufferPointer { dead in
                        coverage.withUnsafeBufferPointer { cov in
                            for k in 0..<(n * n) {
                                if dead[k] {
                                    // Dead pixels hold the sky (no source, no noise); confidence 0.
                                    let i = k % n, j = k / n
                                    let gx = c.skyGradientX * ((Double(i) + 0.5) / Double(n) - 0.5)
                                    let gy = c.skyGradientY * ((Double(j) + 0.5) / Double(n) - 0.5)
                                    out[k] = Int32((c.skyLevel * (1 + gx + gy)).rounded())
                                    continue
                                }
                                let m = Double(mod[k])
                                if m >= sat {
                                    out[k] = Int32(sat)
                                    continue
                                }
                                let variance = (a * max(m, 0) + b) * cov[Int(cf[k])]
                                let v = min(sat, m + variance.squareRoot() * rng.gaussian())
                                out[k] = Int32(v.rounded())
                            }
                        }
                    }
                }
            }
        }
        return RenderedDetector(pixels: pixels, hits: hits)
    }

    /// Adds an elliptical Sérsic profile convolved with a Gaussian PSF, normalised to `flux`.
    static func addExtended(to image: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                            x: Double, y: Double, flux: Double, effectiveRadius re: Double,
                            axisRatio q: Double, angle phi: Double, sersic nIndex: Double, psfSigma: Double,
                            noise: Double) {
        let re = max(re, 0.3)
        let bn = 2 * nIndex - 1.0 / 3 + 4 / (405 * nIndex)
        // Faint sources (total below 5σ of one pixel) are drawn as a single Gaussian blob of the
        // same second moments: invisible in detail, cheap to draw.
        if flux < 5 * noise {
            let s2 = psfSigma * psfSigma + 0.5 * re * re * (1 + q * q) / 2
            let rad = 3 * s2.squareRoot()
            let i0 = max(0, Int((x - 1 - rad).rounded(.down))), i1 = min(width - 1, Int((x - 1 + rad).rounded(.up)))
            let j0 = max(0, Int((y - 1 - rad).rounded(.down))), j1 = min(height - 1, Int((y - 1 + rad).rounded(.up)))
            guard i0 <= i1, j0 <= j1 else { return }
            let amp = flux / (2 * .pi * s2)
            for j in j0...j1 {
                let dy = Double(j + 1) - y
                for i in i0...i1 {
                    let dx = Double(i + 1) - x
                    image[j * width + i] += Float(amp * exp(-(dx * dx + dy * dy) / (2 * s2)))
                }
            }
            return
        }
        // Truncate where the intrinsic profile falls below 2% of the pixel noise.
        let extent = nIndex <= 0.5 ? 3.0 : (nIndex <= 1 ? 5.0 : 8.0)
        let ie = flux * pow(bn, 2 * nIndex) / (2 * .pi * q * re * re * nIndex * exp(bn) * tgamma(2 * nIndex))
        let floor = 0.02 * max(noise, 1e-3)
        let reach = ie > floor ? re * pow(1 + log(ie / floor) / bn, nIndex) : re
        let kr = max(1, Int((3 * psfSigma).rounded(.up)))
        let half = min(100, Int(min(extent * re, max(reach, re)).rounded(.up)) + kr + 1)
        let side = 2 * half + 1
        let ic = Int((x - 1).rounded()), jc = Int((y - 1).rounded())
        // Skip stamps that cannot touch the image.
        if ic + half < 0 || jc + half < 0 || ic - half >= width || jc - half >= height { return }
        let fine = (1.5 * re + 1) * (1.5 * re + 1)
        let cp = cos(phi), sp = sin(phi)
        var stamp = [Double](repeating: 0, count: side * side)
        func profile(_ dx: Double, _ dy: Double) -> Double {
            let u = dx * cp + dy * sp, v = (-dx * sp + dy * cp) / q
            let rr = (u * u + v * v).squareRoot() / re
            let p: Double
            switch nIndex {
            case 1: p = rr
            case 0.5: p = rr * rr
            case 4: p = rr.squareRoot().squareRoot()
            default: p = pow(rr, 1 / nIndex)
            }
            return exp(-bn * (p - 1))
        }
        for b in 0..<side {
            let dy0 = Double(jc - half + b + 1) - y
            for a in 0..<side {
                let dx0 = Double(ic - half + a + 1) - x
                let d2 = dx0 * dx0 + dy0 * dy0
                let s = d2 < 2.25 ? 5 : (d2 < fine ? 3 : 1)
                var sum = 0.0
                for sb in 0..<s {
                    let dy = dy0 + (Double(sb) + 0.5) / Double(s) - 0.5
                    for sa in 0..<s {
                        sum += profile(dx0 + (Double(sa) + 0.5) / Double(s) - 0.5, dy)
                    }
                }
                stamp[b * side + a] = sum / Double(s * s)
            }
        }
        // Separable Gaussian convolution (the seeing).
        let kernel = (-kr...kr).map { exp(-Double($0 * $0) / (2 * psfSigma * psfSigma)) }
        let ks = kernel.reduce(0, +)
        var tmp = [Double](repeating: 0, count: side * side)
        for b in 0..<side {
            for a in 0..<side {
                var s = 0.0
                for t in -kr...kr where a + t >= 0 && a + t < side { s += kernel[t + kr] * stamp[b * side + a + t] }
                tmp[b * side + a] = s / ks
            }
        }
        var total = 0.0
        for b in 0..<side {
            for a in 0..<side {
                var s = 0.0
                for t in -kr...kr where b + t >= 0 && b + t < side { s += kernel[t + kr] * tmp[(b + t) * side + a] }
                stamp[b * side + a] = s / ks
                total += stamp[b * side + a]
            }
        }
        guard total > 0 else { return }
        let scale = flux / total
        for b in 0..<side {
            let j = jc - half + b
            if j < 0 || j >= height { continue }
            for a in 0..<side {
                let i = ic - half + a
                if i < 0 || i >= width { continue }
                image[j * width + i] += Float(stamp[b * side + a] * scale)
            }
        }
    }
}
