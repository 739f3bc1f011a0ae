import Foundation

/// A circular Moffat point-spread function, I(r) ∝ (1 + r²/α²)^−β, with FWHM in pixels.
/// Pixels are integrated by sub-sampling; the profile is tabulated in r² for speed.
public final class MoffatPSF: Sendable {
    /// Full width at half maximum, pixels (the SEEING keyword).
    public let fwhm: Double
    public let beta: Double
    public let alpha: Double
    /// Peak of the normalised profile, (β − 1)/(π α²).
    let norm: Double
    /// Profile per unit flux tabulated at r² = k·step.
    let table: [Float]
    let step: Double = 1.0 / 32
    /// Largest radius any stamp reaches, pixels.
    public static let maxRadius = 100.0

    public init(fwhm: Double, beta: Double = 3.0) {
        self.fwhm = fwhm
        self.beta = beta
        alpha = fwhm / (2 * (pow(2, 1 / beta) - 1).squareRoot())
        norm = (beta - 1) / (.pi * alpha * alpha)
        let n = Int(Self.maxRadius * Self.maxRadius / step) + 2
        var t = [Float](repeating: 0, count: n)
        let a2 = alpha * alpha
        for k in 0..<n {
            let u = 1 + Double(k) * step / a2
            t[k] = Float(beta == 3 ? norm / (u * u * u) : norm * pow(u, -beta))
        }
        table = t
    }

    /// Profile per unit flux at squared radius r² (pixels²).
    @inline(__always)
    func profile(_ r2: Double) -> Double {
        let f = r2 / step
        let k = Int(f)
        if k >= table.count - 1 { return 0 }
        let w = f - Double(k)
        return Double(table[k]) * (1 - w) + Double(table[k + 1]) * w
    }

    /// Fraction of the flux outside radius r (analytic).
    public func fractionOutside(_ r: Double) -> Double { pow(1 + r * r / (alpha * alpha), 1 - beta) }

    /// The radius beyond which a star of `flux` adds less than `floor` ADU to a pixel
    /// (at least 5 FWHM and 12 pixels, at most `maxRadius`).
    public func stampRadius(flux: Double, floor: Double) -> Double {
        let ratio = flux * norm / max(floor, 1e-6)
        var r = 0.0
        if ratio > 1 { r = alpha * max(0, pow(ratio, 1 / beta) - 1).squareRoot() }
        return min(Self.maxRadius, max(r, 5 * fwhm, 12))
    }

    /// Adds a star of total `flux` centred at FITS pixel position (x, y) (1-based) to an image of
    /// `width`×`height` floats, out to `radius` pixels.
    public func addStar(to image: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                        x: Double, y: Double, flux: Double, radius: Double) {
        let i0 = max(0, Int((x - 1 - radius).rounded(.down))), i1 = min(width - 1, Int((x - 1 + radius).rounded(.up)))
        let j0 = max(0, Int((y - 1 - radius).rounded(.down))), j1 = min(height - 1, Int((y - 1 + radius).rounded(.up)))
        guard i0 <= i1, j0 <= j1 else { return }
        let r2max = radius * radius
        let inner = (2 * fwhm) * (2 * fwhm), middle = (4 * fwhm) * (4 * fwhm)
        for j in j0...j1 {
            let dy = Double(j + 1) - y
            let row = j * width
            for i in i0...i1 {
                let dx = Double(i + 1) - x
                let d2 = dx * dx + dy * dy
                if d2 > r2max { continue }
                let v: Double
                if d2 < inner {
                    v = subsampled(dx, dy, 5)
                } else if d2 < middle {
                    v = subsampled(dx, dy, 3)
                } else {
                    v = profile(d2)
                }
                image[row + i] += Float(flux * v)
            }
        }
    }

    @inline(__always)
    func subsampled(_ dx: Double, _ dy: Double, _ s: Int) -> Double {
        var sum = 0.0
        let inv = 1.0 / Double(s)
        for b in 0..<s {
            let oy = dy + (Double(b) + 0.5) * inv - 0.5
            for a in 0..<s {
                let ox = dx + (Double(a) + 0.5) * inv - 0.5
                sum += profile(ox * ox + oy * oy)
            }
        }
        return sum * inv * inv
    }

    /// Aperture corrections for the PSF as drawn: for each radius, −2.5 log10 of the mean fraction
    /// of a point source's flux the aperture code measures (averaged over sub-pixel positions),
    /// and the same for the peak pixel (APCORPK). All positive.
    public func apertureCorrections(radii: [Double]) -> (apertures: [Double], peak: Double) {
        let size = Int(2 * (radii.max() ?? 10) + 2 * 5 * fwhm) + 9
        var sums = [Double](repeating: 0, count: radii.count)
        var peakSum = 0.0
        let offsets = [0.0, 0.25, 0.5, 0.75]
        var image = [Float](repeating: 0, count: size * size)
        for ox in offsets {
            for oy in offsets {
                for k in image.indices { image[k] = 0 }
                let cx = Double(size / 2) + ox, cy = Double(size / 2) + oy
                image.withUnsafeMutableBufferPointer {
                    addStar(to: $0, width: size, height: size, x: cx, y: cy, flux: 1,
                            radius: Double(size / 2) - 1)
                }
                let fluxes = Aperture.fluxes(image: image, width: size, height: size, cx: cx, cy: cy,
                                             radii: radii, good: nil)
                for k in radii.indices { sums[k] += fluxes.flux[k] }
                peakSum += Double(image.max() ?? 0)
            }
        }
        let n = Double(offsets.count * offsets.count)
        return (sums.map { -2.5 * log10($0 / n) }, -2.5 * log10(peakSum / n))
    }
}

/// Circular-aperture photometry with sub-pixel boundaries (5×5 sub-sampling of edge pixels).
enum Aperture {
    struct Result {
        var flux: [Double]
        /// Pixels inside each radius that are bad (confidence 0) or off the detector.
        var bad: [Int]
        /// Sum of confidence of the good pixels and their count inside each radius.
        var confSum: [Double]
        var confCount: [Int]
    }

    /// Fluxes in circles of `radii` (ascending) about FITS position (cx, cy). `good` marks usable
    /// pixels (nil: all); bad pixels add nothing. Pixels wholly inside a circle are summed once
    /// into the annulus where they enter and accumulated outwards; only boundary pixels are
    /// sub-sampled (5×5), or cut by a straight-edge approximation for radii above 5 pixels.
    static func fluxes(image: [Float], width: Int, height: Int, cx: Double, cy: Double,
                       radii: [Double], good: [Bool]?, conf: [Int16]? = nil) -> Result {
        let m = radii.count
        var res = Result(flux: [Double](repeating: 0, count: m), bad: [Int](repeating: 0, count: m),
                         confSum: [Double](repeating: 0, count: m), confCount: [Int](repeating: 0, count: m))
        guard let rmax = radii.last, rmax > 0 else { return res }
        // Order the radii (callers pass them ascending; sort defensively) and remember where each goes.
        let order = radii.indices.sorted { radii[$0] < radii[$1] }
        let r = order.map { radii[$0] }
        let rLargest = r[m - 1]
        let half = 0.7072
        var fullFlux = [Double](repeating: 0, count: m + 1), fullBad = [Int](repeating: 0, count: m + 1)
        var fullConf = [Double](repeating: 0, count: m + 1), fullCount = [Int](repeating: 0, count: m + 1)
        var flux = [Double](repeating: 0, count: m), bad = [Int](repeating: 0, count: m)
        var confSum = [Double](repeating: 0, count: m), confCount = [Int](repeating: 0, count: m)
        let i0 = Int((cx - 1 - rLargest - 1).rounded(.down)), i1 = Int((cx - 1 + rLargest + 1).rounded(.up))
        let j0 = Int((cy - 1 - rLargest - 1).rounded(.down)), j1 = Int((cy - 1 + rLargest + 1).rounded(.up))
        let limit = (rLargest + half) * (rLargest + half)
        image.withUnsafeBufferPointer { img in
            for j in j0...j1 {
                let dy = Double(j + 1) - cy
                for i in i0...i1 {
                    let dx = Double(i + 1) - cx
                    let d2 = dx * dx + dy * dy
                    if d2 >= limit { continue }
                    let d = d2.squareRoot()
                    let inside = i >= 0 && i < width && j >= 0 && j < height
                    let idx = j * width + i
                    let usable = inside && (good?[idx] ?? true)
                    let value = usable ? Double(img[idx]) : 0
                    let c = (usable && conf != nil) ? Double(conf![idx]) : 0
                    // First circle that holds the whole pixel.
                    var k = 0
                    while k < m && r[k] < d + half {
                        if r[k] > d - half {
                            // Boundary pixel of circle k.
                            let frac: Double
                            if r[k] > 5 {
                                frac = min(1, max(0, r[k] - d + 0.5))
                            } else {
                                var n = 0
                                let rk2 = r[k] * r[k]
                                for b in 0..<5 {
                                    let oy = dy + (Double(b) + 0.5) / 5 - 0.5
                                    for a in 0..<5 {
                                        let ox = dx + (Double(a) + 0.5) / 5 - 0.5
                                        if ox * ox + oy * oy <= rk2 { n += 1 }
                                    }
                                }
                                frac = Double(n) / 25
                            }
                            if frac > 0 {
                                if usable {
                                    flux[k] += frac * value
                                    if conf != nil { confSum[k] += c; confCount[k] += 1 }
                                } else if frac >= 0.5 {
                                    bad[k] += 1
                                }
                            }
                        }
                        k += 1
                    }
                    if usable {
                        fullFlux[k] += value
                        if conf != nil { fullConf[k] += c; fullCount[k] += 1 }
                    } else {
                        fullBad[k] += 1
                    }
                }
            }
        }
        // Whole pixels entering at circle k belong to every larger circle too.
        var accFlux = 0.0, accBad = 0, accConf = 0.0, accCount = 0
        for k in 0..<m {
            accFlux += fullFlux[k]; accBad += fullBad[k]; accConf += fullConf[k]; accCount += fullCount[k]
            let o = order[k]
            res.flux[o] = flux[k] + accFlux
            res.bad[o] = bad[k] + accBad
            res.confSum[o] = confSum[k] + accConf
            res.confCount[o] = confCount[k] + accCount
        }
        return res
    }
}
