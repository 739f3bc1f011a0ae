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
            t[k] = Float(norm * pow(1 + Double(k) * step / a2, -beta))
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

    /// Fluxes in circles of `radii` about FITS position (cx, cy). `good` marks usable pixels
    /// (nil: all); bad pixels add nothing.
    static func fluxes(image: [Float], width: Int, height: Int, cx: Double, cy: Double,
                       radii: [Double], good: [Bool]?, conf: [Int16]? = nil) -> Result {
        var res = Result(flux: [Double](repeating: 0, count: radii.count),
                         bad: [Int](repeating: 0, count: radii.count),
                         confSum: [Double](repeating: 0, count: radii.count),
                         confCount: [Int](repeating: 0, count: radii.count))
        guard let rmax = radii.max(), rmax > 0 else { return res }
        let half = 0.7072
        let i0 = Int((cx - 1 - rmax - 1).rounded(.down)), i1 = Int((cx - 1 + rmax + 1).rounded(.up))
        let j0 = Int((cy - 1 - rmax - 1).rounded(.down)), j1 = Int((cy - 1 + rmax + 1).rounded(.up))
        let sq = radii.map { $0 * $0 }
        for j in j0...j1 {
            let dy = Double(j + 1) - cy
            for i in i0...i1 {
                let dx = Double(i + 1) - cx
                let d = (dx * dx + dy * dy).squareRoot()
                if d >= rmax + half { continue }
                let inside = i >= 0 && i < width && j >= 0 && j < height
                let idx = j * width + i
                let usable = inside && (good?[idx] ?? true)
                let value = usable ? Double(image[idx]) : 0
                for k in radii.indices {
                    let r = radii[k]
                    let frac: Double
                    if d <= r - half {
                        frac = 1
                    } else if d >= r + half {
                        continue
                    } else if r > 5 {
                        // Large circles: the boundary is nearly straight across a pixel.
                        frac = min(1, max(0, r - d + 0.5))
                        if frac == 0 { continue }
                    } else {
                        var n = 0
                        for b in 0..<5 {
                            let oy = dy + (Double(b) + 0.5) / 5 - 0.5
                            for a in 0..<5 {
                                let ox = dx + (Double(a) + 0.5) / 5 - 0.5
                                if ox * ox + oy * oy <= sq[k] { n += 1 }
                            }
                        }
                        if n == 0 { continue }
                        frac = Double(n) / 25
                    }
                    if usable {
                        res.flux[k] += frac * value
                        if let conf {
                            res.confSum[k] += Double(conf[idx])
                            res.confCount[k] += 1
                        }
                    } else if frac >= 0.5 {
                        res.bad[k] += 1
                    }
                }
            }
        }
        return res
    }
}
