public import FITS
import Foundation

/// The WFCAM focal plane: four square detectors around the optical axis, each rotated 90° from
/// the next, separated by 94% of a detector width, at 0.4″/pixel, with the ZPN radial distortion.
/// Detector size is configurable; the layout scales with it.
public struct FocalPlane: Sendable, Equatable {
    /// Pixels per detector side (2048 for WFCAM).
    public let size: Int
    /// Arcseconds per pixel.
    public let pixelScale: Double = 0.4
    /// Gap between detectors as a fraction of the detector width.
    public static let gapFraction = 0.94
    /// ZPN cubic distortion term (PV2_3) of WFCAM.
    public static let pv23 = 220.0
    /// Small fixed rotation errors of the detectors in the focal plane (degrees), camnum 1…4.
    public static let rotationErrors = [0.012, -0.008, 0.005, -0.015]

    public init(size: Int) { self.size = size }

    /// Distance of each detector's centre from the optical axis along x and y (pixels).
    public var detectorOffset: Double { (1 + Self.gapFraction) * Double(size) / 2 }

    /// Half-width of the whole four-detector footprint, pixels from the axis.
    public var footprintHalfWidth: Double { detectorOffset + Double(size) / 2 }

    /// Rotation (detector pixel axes → focal-plane axes) of a detector, as a 2×2 matrix
    /// `[[a, b], [c, d]]`: the 90° step of the camera plus its small error.
    public func rotation(camnum: Int) -> (a: Double, b: Double, c: Double, d: Double) {
        let theta = (Double(camnum - 1) * 90 + Self.rotationErrors[camnum - 1]) * .pi / 180
        return (cos(theta), -sin(theta), sin(theta), cos(theta))
    }

    /// The WCS cards of one detector with the optical axis at `axis` (degrees): CRPIX lies off the
    /// chip at the array centre; CD combines the pixel scale with the detector's rotation.
    public func wcsCards(camnum: Int, axis: SkyPosition) -> [FITSCard] {
        let s = pixelScale / 3600
        let o = detectorOffset
        let r = rotation(camnum: camnum)
        // The detector centre in the focal plane is the camera-1 centre (−o, −o) rotated by the
        // exact 90° steps; pixel p maps to u = c + R (p − centre), so CRPIX = centre − R⁻¹ c.
        let q = Double(camnum - 1) * .pi / 2
        let cu = -o * cos(q) + o * sin(q), cv = -o * sin(q) - o * cos(q)
        // R⁻¹ = Rᵀ for a rotation.
        let du = r.a * cu + r.c * cv, dv = r.b * cu + r.d * cv
        let centre = (Double(size) + 1) / 2
        let crpix1 = centre - du, crpix2 = centre - dv
        // CD = diag(−s, s) · R (east to the left, north up before rotation).
        let cd11 = -s * r.a, cd12 = -s * r.b, cd21 = s * r.c, cd22 = s * r.d
        return [
            FITSCard("CTYPE1", .string("RA---ZPN"), comment: "Algorithm type for axis 1"),
            FITSCard("CTYPE2", .string("DEC--ZPN"), comment: "Algorithm type for axis 2"),
            FITSCard("CRVAL1", .double(axis.ra), comment: "[deg] Right ascension at the reference pixel"),
            FITSCard("CRVAL2", .double(axis.dec), comment: "[deg] Declination at the reference pixel"),
            FITSCard("CRPIX1", .double(Self.round(crpix1, 6)), comment: "[pixel] Reference pixel on axis 1"),
            FITSCard("CRPIX2", .double(Self.round(crpix2, 6)), comment: "[pixel] Reference pixel on axis 2"),
            FITSCard("CD1_1", .double(Self.round(cd11, 14)), comment: "Transformation matrix"),
            FITSCard("CD1_2", .double(Self.round(cd12, 14)), comment: "Transformation matrix"),
            FITSCard("CD2_1", .double(Self.round(cd21, 14)), comment: "Transformation matrix"),
            FITSCard("CD2_2", .double(Self.round(cd22, 14)), comment: "Transformation matrix"),
            FITSCard("PV2_1", .double(1.0), comment: "Coefficient for r"),
            FITSCard("PV2_2", .double(0.0), comment: "Coefficient for r**2"),
            FITSCard("PV2_3", .double(Self.pv23), comment: "Coefficient for r**3"),
        ]
    }

    /// Rounds to `digits` decimals so the header text and the in-memory value are the same number.
    static func round(_ v: Double, _ digits: Int) -> Double {
        let p = pow(10.0, Double(digits))
        return (v * p).rounded() / p
    }

    /// The tangent-plane offsets (ξ, η in degrees) of pointing `index` of `count`, laid out on a
    /// grid with a step of 0.9 detector widths so that neighbouring pointings overlap.
    public func pointingOffset(index: Int, count: Int) -> (xi: Double, eta: Double) {
        let cols = max(1, Int(Double(count).squareRoot().rounded(.up)))
        let rows = (count + cols - 1) / cols
        let i = index % cols, j = index / cols
        let step = 0.9 * Double(size) * pixelScale / 3600
        return ((Double(i) - Double(cols - 1) / 2) * step, (Double(j) - Double(rows - 1) / 2) * step)
    }
}

/// Gnomonic projection helpers (degrees) about a tangent point.
enum Gnomonic {
    /// Sky position of tangent-plane offsets (ξ east, η north; degrees) about `centre`.
    static func sky(xi: Double, eta: Double, centre: (ra: Double, dec: Double)) -> SkyPosition {
        let d2r = Double.pi / 180
        let x = xi * d2r, y = eta * d2r
        let a0 = centre.ra * d2r, d0 = centre.dec * d2r
        let denom = cos(d0) - y * sin(d0)
        var ra = a0 + atan2(x, denom)
        let dec = atan2(sin(d0) + y * cos(d0), (x * x + denom * denom).squareRoot())
        ra = ra.truncatingRemainder(dividingBy: 2 * .pi)
        if ra < 0 { ra += 2 * .pi }
        return SkyPosition(ra: ra / d2r, dec: dec / d2r)
    }

    /// Tangent-plane offsets (degrees) of a sky position about `centre`.
    static func offsets(_ p: SkyPosition, centre: (ra: Double, dec: Double)) -> (xi: Double, eta: Double) {
        let d2r = Double.pi / 180
        let a = p.ra * d2r, d = p.dec * d2r, a0 = centre.ra * d2r, d0 = centre.dec * d2r
        let cosc = sin(d0) * sin(d) + cos(d0) * cos(d) * cos(a - a0)
        let xi = cos(d) * sin(a - a0) / cosc
        let eta = (cos(d0) * sin(d) - sin(d0) * cos(d) * cos(a - a0)) / cosc
        return (xi / d2r, eta / d2r)
    }
}
