public import FITS
import Foundation

/// A deliberately damaged delivery file (`--corrupt`), cycling through these kinds.
public enum CorruptionKind: String, CaseIterable, Sendable {
    /// The image file is cut in the middle of its data.
    case truncatedImage = "truncated_image"
    /// The primary header bytes are overwritten with garbage: no longer FITS.
    case badHeader = "bad_header"
    /// The image extensions carry no WCS keywords.
    case missingWCS = "missing_wcs"
    /// PROJECT is `U/UKIDSS/XYZ`, a programme the archive does not know.
    case unknownProject = "unknown_project"
    /// A catalogue is delivered without its image (and confidence map).
    case catalogueWithoutImage = "catalogue_without_image"

    /// What an ingest should report.
    public var expectedProblem: String {
        switch self {
        case .truncatedImage: return "image file truncated in the middle of its data; cannot be read"
        case .badHeader: return "primary header overwritten with garbage; not a FITS file"
        case .missingWCS: return "image extensions have no WCS keywords (CTYPE/CRVAL/CRPIX/CD/PV)"
        case .unknownProject: return "PROJECT 'U/UKIDSS/XYZ' is not a known programme"
        case .catalogueWithoutImage: return "catalogue delivered without its image"
        }
    }
}

/// Everything that defines one observation (one `_sf_st` frame and its companions).
public struct FrameSpec: Sendable {
    public var night: Night
    /// Run number (OBSNUM; the stack takes the run number of its first jitter exposure).
    public var run: Int
    public var programme: Programme
    public var passband: Passband
    /// Pointing index within the programme (0-based) and repeat index of the exposure.
    public var pointing: Int
    public var exposure: Int
    /// Base position (RABASE/DECBASE) and the actual optical axis (base + pointing error).
    public var base: SkyPosition
    public var axis: SkyPosition
    public var mjdStart: Double
    public var mjdEnd: Double
    public var expTime: Double
    public var njitter: Int
    public var amStart: Double
    public var amEnd: Double
    /// Frame seeing FWHM (arcsec) and photometric zero point; detectors vary slightly around them.
    public var seeing: Double
    public var zeroPoint: Double
    /// Sky brightness relative to the band's nominal (multiplicative).
    public var skyFactor: Double
    public var msbID: String
    /// Set for the deliberately damaged frames of `--corrupt`.
    public var corruption: CorruptionKind?

    /// A name for the observation that does not depend on run numbering (seeds its streams).
    public var identity: String { "\(night)/\(programme.rawValue)/\(pointing)/\(passband.rawValue)/\(exposure)" }

    /// `wYYYYMMDD_NNNNN_sf_st`.
    public var stem: String { String(format: "w%@_%05d_sf_st", night.description, run) }
    public var imageName: String { stem + ".fit" }
    public var confName: String { stem + "_conf.fit" }
    public var catalogueName: String { stem + "_cat.fits" }
    /// Mean airmass ½(AMSTART + AMEND).
    public var airmass: Double { (amStart + amEnd) / 2 }
    /// Julian epoch of the start of the observation.
    public var epoch: Double { Night.epoch(mjd: mjdStart) }
    /// PROJECT keyword.
    public var project: String { corruption == .unknownProject ? "U/UKIDSS/XYZ" : programme.project }
}

/// The observations of a run, in delivery order, and the nightly zero-point summaries.
public struct ObservationPlan: Sendable {
    public var frames: [FrameSpec]

    /// Plans every night: per programme, repeat, pointing and passband one frame; run numbers
    /// restart at 1 each night and advance by the jitter count. Damaged frames come last.
    public init(config: SimulationConfig) {
        let plane = FocalPlane(size: config.detectorSize)
        var frames: [FrameSpec] = []
        var nextRun: [Night: Int] = [:]
        var clock: [Night: Double] = [:]
        func makeFrame(night: Night, programme: Programme, band: Passband, pointing: Int,
                       exposure: Int, rng: inout Xoshiro256, corruption: CorruptionKind?) -> FrameSpec {
            let run = nextRun[night] ?? 1
            let njitter = programme.jitters(band)
            nextRun[night] = run + njitter
            let start = clock[night] ?? (Double(night.mjd) + 5.5 / 24)
            let expTime = programme.exposureTime(band)
            let duration = (expTime * Double(njitter) + 6 * Double(njitter)) / 86400
            clock[night] = start + duration + 25.0 / 86400
            let off = plane.pointingOffset(index: pointing, count: config.pointings)
            let base = Gnomonic.sky(xi: off.xi, eta: off.eta, centre: programme.fieldCentre)
            // Telescope pointing error of about an arcsecond between repeats.
            let axis = Gnomonic.sky(xi: rng.gaussian(0, 1.0) / 3600, eta: rng.gaussian(0, 1.0) / 3600,
                                    centre: (base.ra, base.dec))
            let am0 = rng.uniform(1.0, 1.8)
            let am1 = max(1.0, am0 + rng.uniform(-0.03, 0.03))
            let seeing = min(1.6, max(0.5, 0.85 * exp(rng.gaussian(0, 0.2))))
            let zp = band.nominalZeroPoint + rng.gaussian(0, 0.04)
            let sky = exp(rng.gaussian(0, 0.18))
            let msb = String(format: "%08x%08x", UInt32(truncatingIfNeeded: Xoshiro256.derive(config.seed,
                ["msb", programme.rawValue, "\(pointing)", night.description])),
                UInt32(truncatingIfNeeded: Xoshiro256.derive(config.seed, ["msb2", programme.rawValue, "\(pointing)"])))
            return FrameSpec(night: night, run: run, programme: programme, passband: band,
                             pointing: pointing, exposure: exposure, base: base, axis: axis,
                             mjdStart: start, mjdEnd: start + duration, expTime: expTime, njitter: njitter,
                             amStart: (am0 * 1000).rounded() / 1000, amEnd: (am1 * 1000).rounded() / 1000,
                             seeing: seeing, zeroPoint: zp, skyFactor: sky, msbID: msb, corruption: corruption)
        }
        for night in config.nights {
            for programme in config.programmes {
                for exposure in 0..<config.exposures {
                    for pointing in 0..<config.pointings {
                        for band in programme.passbands {
                            var rng = Xoshiro256(seed: config.seed, "frame", night, programme.rawValue,
                                                 pointing, band.rawValue, exposure)
                            frames.append(makeFrame(night: night, programme: programme, band: band,
                                                    pointing: pointing, exposure: exposure, rng: &rng,
                                                    corruption: nil))
                        }
                    }
                }
            }
        }
        if config.corrupt > 0, let programme = config.programmes.first, !config.nights.isEmpty {
            for k in 0..<config.corrupt {
                let night = config.nights[k % config.nights.count]
                let kind = CorruptionKind.allCases[k % CorruptionKind.allCases.count]
                var rng = Xoshiro256(seed: config.seed, "corrupt", k)
                let band = programme.passbands[k % programme.passbands.count]
                frames.append(makeFrame(night: night, programme: programme, band: band, pointing: 0,
                                        exposure: config.exposures + k, rng: &rng, corruption: kind))
            }
        }
        self.frames = frames
    }
}
