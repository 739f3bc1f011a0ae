public import FITS
import Foundation

/// What kind of object a truth source is.
public enum SourceType: String, Sendable, Codable {
    case star, galaxy, h2
}

/// One source of the simulated sky (epoch 2000.0 positions).
public struct SkySource: Sendable, Equatable {
    /// Unique over the whole run: programme index × 10⁷ + sequence.
    public var id: Int64
    public var programme: Programme
    public var type: SourceType
    /// Finer kind: dwarf, cluster, fast, browndwarf (stars); disk, spheroid (galaxies); knot (h2).
    public var subtype: String
    /// Degrees, J2000, epoch 2000.0.
    public var ra: Double
    public var dec: Double
    /// Proper motion, mas/yr: μα cos δ and μδ.
    public var pmRA: Double
    public var pmDec: Double
    /// Magnitudes per passband (Vega, WFCAM system); NaN where the source does not emit.
    public var mags: [Passband: Double]
    /// Sérsic index (0 for point sources).
    public var sersicIndex: Double
    /// Effective (half-light) radius along the major axis, arcsec (0 for point sources).
    public var effectiveRadius: Double
    /// Axis ratio b/a.
    public var axisRatio: Double
    /// Position angle of the major axis, degrees east of north.
    public var positionAngle: Double

    /// True for point sources (stars).
    public var isPointSource: Bool { type == .star }

    /// Magnitude in a band (NaN if none).
    public func mag(_ band: Passband) -> Double { mags[band] ?? .nan }

    /// Position at a Julian epoch, applying the proper motion linearly.
    public func position(epoch: Double) -> SkyPosition {
        let dt = epoch - 2000.0
        let cosd = max(cos(dec * .pi / 180), 1e-6)
        return SkyPosition(ra: ra + pmRA * dt / 3.6e6 / cosd, dec: dec + pmDec * dt / 3.6e6)
    }
}

/// The fixed, seeded population of one programme's field, covering every pointing (plus a margin
/// for dithers and proper motions).
public struct SkyPopulation: Sendable {
    public let programme: Programme
    public let sources: [SkySource]
    /// The region covered: tangent-plane half-widths (degrees) about the field centre.
    public let halfWidthXi: Double
    public let halfWidthEta: Double

    /// Magnitude ranges of the counts (K band).
    static let starMagRange = 9.0...20.5
    static let galaxyMagRange = 13.0...20.5

    /// Generates the population: stars with power-law counts (N(<K) ∝ 10^0.3K), colours and proper
    /// motions (a few fast movers), galaxies (Sérsic profiles, 10^0.45K counts), and per programme
    /// a Pleiades-like moving cluster (GCS), brown dwarfs (LAS) and H2 emission knots (GPS).
    public init(programme: Programme, seed: UInt64, focalPlane: FocalPlane, pointings: Int,
                starScale: Double, galaxyScale: Double) {
        self.programme = programme
        var rng = Xoshiro256(seed: seed, "population", programme.rawValue)
        let centre = programme.fieldCentre
        var maxXi = 0.0, maxEta = 0.0
        for p in 0..<pointings {
            let o = focalPlane.pointingOffset(index: p, count: pointings)
            maxXi = max(maxXi, abs(o.xi)); maxEta = max(maxEta, abs(o.eta))
        }
        let margin = focalPlane.footprintHalfWidth * focalPlane.pixelScale / 3600 + 20.0 / 3600
        let hx = maxXi + margin, he = maxEta + margin
        halfWidthXi = hx; halfWidthEta = he
        let area = 4 * hx * he  // deg² (tangent plane; fine for these small fields)

        var list: [SkySource] = []
        var sequence: Int64 = 0
        func nextID() -> Int64 {
            sequence += 1
            return Int64(programme.index) * 10_000_000 + sequence
        }
        func randomPosition() -> SkyPosition {
            Gnomonic.sky(xi: rng.uniform(-hx, hx), eta: rng.uniform(-he, he), centre: centre)
        }
        func powerLawMag(_ range: ClosedRange<Double>, slope: Double) -> Double {
            let lo = pow(10, slope * range.lowerBound), hi = pow(10, slope * range.upperBound)
            return log10(lo + rng.uniform() * (hi - lo)) / slope
        }
        func starMags(k: Double, colour c: Double, ak: Double) -> [Passband: Double] {
            let jh = 0.20 + 0.45 * c, hk = 0.05 + 0.25 * c, yj = 0.25 + 0.40 * c, zy = 0.15 + 0.35 * c
            let h = k + hk, j = h + jh, y = j + yj, z = y + zy
            var m: [Passband: Double] = [.K: k, .H: h, .J: j, .Y: y, .Z: z, .H2: k + 0.01]
            for b in Passband.allCases { m[b]! += ak * b.extinctionRatioToK }
            return m
        }

        // Field stars.
        let starsBrighterThan18 = programme.starDensity * starScale * area
        let starTotal = starsBrighterThan18 * (pow(10, 0.3 * (Self.starMagRange.upperBound - 18))
            - pow(10, 0.3 * (Self.starMagRange.lowerBound - 18)))
        let nStars = rng.poisson(starTotal)
        for _ in 0..<nStars {
            let k = powerLawMag(Self.starMagRange, slope: 0.3)
            let ak = rng.uniform(programme.reddeningRange.lowerBound, programme.reddeningRange.upperBound)
            let pos = randomPosition()
            list.append(SkySource(id: nextID(), programme: programme, type: .star, subtype: "dwarf",
                                  ra: pos.ra, dec: pos.dec,
                                  pmRA: rng.gaussian(-2, 8), pmDec: rng.gaussian(-4, 8),
                                  mags: starMags(k: k, colour: rng.uniform(), ak: ak),
                                  sersicIndex: 0, effectiveRadius: 0, axisRatio: 1, positionAngle: 0))
        }
        // Fast movers: bright enough to measure, 0.3–2″/yr.
        let nFast = max(3, Int((Double(nStars) * 0.003).rounded()))
        for _ in 0..<nFast {
            let pos = randomPosition()
            let mu = rng.uniform(300, 2000), angle = rng.uniform(0, 2 * .pi)
            list.append(SkySource(id: nextID(), programme: programme, type: .star, subtype: "fast",
                                  ra: pos.ra, dec: pos.dec, pmRA: mu * sin(angle), pmDec: mu * cos(angle),
                                  mags: starMags(k: rng.uniform(12.5, 16.0), colour: rng.uniform(0.5, 1.0),
                                                 ak: programme.reddeningRange.lowerBound),
                                  sersicIndex: 0, effectiveRadius: 0, axisRatio: 1, positionAngle: 0))
        }
        // GCS: a moving cluster with a common proper motion (Pleiades-like).
        if programme == .GCS {
            let n = rng.poisson(max(8, 600 * starScale * area))
            for _ in 0..<n {
                let pos = randomPosition()
                list.append(SkySource(id: nextID(), programme: programme, type: .star, subtype: "cluster",
                                      ra: pos.ra, dec: pos.dec,
                                      pmRA: rng.gaussian(19.997, 1.0), pmDec: rng.gaussian(-45.548, 1.0),
                                      mags: starMags(k: rng.uniform(9.5, 18.0), colour: rng.uniform(0.3, 1.0), ak: 0.03),
                                      sersicIndex: 0, effectiveRadius: 0, axisRatio: 1, positionAngle: 0))
            }
        }
        // LAS: a few T dwarfs — very red in Z−J and Y−J, blue in J−K, with large proper motions.
        if programme == .LAS {
            let n = max(2, rng.poisson(30 * starScale * area))
            for _ in 0..<n {
                let pos = randomPosition()
                let j = rng.uniform(15.0, 18.0)
                let mu = rng.uniform(100, 700), angle = rng.uniform(0, 2 * .pi)
                let m: [Passband: Double] = [.J: j, .Z: j + 3.4, .Y: j + 1.2, .H: j + 0.1, .K: j + 0.2, .H2: j + 0.2]
                list.append(SkySource(id: nextID(), programme: programme, type: .star, subtype: "browndwarf",
                                      ra: pos.ra, dec: pos.dec, pmRA: mu * sin(angle), pmDec: mu * cos(angle),
                                      mags: m, sersicIndex: 0, effectiveRadius: 0, axisRatio: 1, positionAngle: 0))
            }
        }
        // Galaxies.
        let galaxiesBrighterThan18 = programme.galaxyDensity * galaxyScale * area
        let galaxyTotal = galaxiesBrighterThan18 * (pow(10, 0.45 * (Self.galaxyMagRange.upperBound - 18))
            - pow(10, 0.45 * (Self.galaxyMagRange.lowerBound - 18)))
        let nGal = rng.poisson(galaxyTotal)
        for _ in 0..<nGal {
            let k = powerLawMag(Self.galaxyMagRange, slope: 0.45)
            let disk = rng.uniform() < 0.65
            let pos = randomPosition()
            // Apparent size shrinks with magnitude.
            let re = max(0.25, (disk ? 2.2 : 1.5) * pow(10, -0.12 * (k - 16)) * exp(rng.gaussian(0, 0.35)))
            let jk = rng.uniform(1.3, 1.9), hk = rng.uniform(0.45, 0.75)
            let j = k + jk
            let m: [Passband: Double] = [.K: k, .H: k + hk, .J: j, .Y: j + rng.uniform(0.4, 0.6),
                                         .Z: j + rng.uniform(0.8, 1.1), .H2: k + 0.05]
            list.append(SkySource(id: nextID(), programme: programme, type: .galaxy,
                                  subtype: disk ? "disk" : "spheroid", ra: pos.ra, dec: pos.dec,
                                  pmRA: 0, pmDec: 0, mags: m, sersicIndex: disk ? 1.0 : 4.0,
                                  effectiveRadius: re,
                                  axisRatio: disk ? rng.uniform(0.25, 1.0) : rng.uniform(0.6, 1.0),
                                  positionAngle: rng.uniform(0, 180)))
        }
        // GPS: H2 emission-line knots — bright in H2, faint in K, absent in J and H: a few
        // scattered ones plus, per pointing, an outflow chain of knots on one of its detectors.
        if programme == .GPS {
            var positions: [SkyPosition] = []
            for _ in 0..<max(4, rng.poisson(60 * starScale * area)) { positions.append(randomPosition()) }
            let scale = focalPlane.pixelScale / 3600
            for p in 0..<pointings {
                let off = focalPlane.pointingOffset(index: p, count: pointings)
                // A random quadrant's detector, within its central half.
                let sx = rng.uniform() < 0.5 ? -1.0 : 1.0, sy = rng.uniform() < 0.5 ? -1.0 : 1.0
                let half = Double(focalPlane.size) / 2
                let cx = off.xi + scale * (sx * focalPlane.detectorOffset + rng.uniform(-0.5, 0.5) * half)
                let cy = off.eta + scale * (sy * focalPlane.detectorOffset + rng.uniform(-0.5, 0.5) * half)
                let length = min(60.0 / 3600, 0.4 * Double(focalPlane.size) * scale)
                let angle = rng.uniform(0, .pi)
                let count = 6 + rng.int(5)
                for k in 0..<count {
                    let t = (Double(k) / Double(count - 1) - 0.5) * length
                    positions.append(Gnomonic.sky(xi: cx + t * cos(angle), eta: cy + t * sin(angle), centre: centre))
                }
            }
            for pos in positions {
                let h2 = rng.uniform(13.5, 16.5)
                let m: [Passband: Double] = [.H2: h2, .K: h2 + rng.uniform(3.0, 4.5),
                                             .J: .nan, .H: .nan, .Y: .nan, .Z: .nan]
                list.append(SkySource(id: nextID(), programme: programme, type: .h2, subtype: "knot",
                                      ra: pos.ra, dec: pos.dec, pmRA: 0, pmDec: 0, mags: m,
                                      sersicIndex: 0.5, effectiveRadius: rng.uniform(0.5, 1.5),
                                      axisRatio: rng.uniform(0.35, 0.9), positionAngle: rng.uniform(0, 180)))
            }
        }
        sources = list
    }
}
