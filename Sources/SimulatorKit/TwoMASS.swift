import FITS
public import Foundation

/// A 2MASS-like external catalogue of the simulated stars: positions at the 2MASS epoch with their
/// proper motions, J/H/K in the 2MASS system (inverting the Hodgkin et al. 2009 WFCAM transforms),
/// 2MASS-like errors and photometric quality flags.
public struct TwoMASSCatalogue: Sendable {
    public struct Entry: Sendable {
        public var truthID: Int64
        public var ra: Double
        public var dec: Double
        /// Major axis of the position error ellipse, arcsec.
        public var errMaj: Double
        public var j: Double, jErr: Double
        public var h: Double, hErr: Double
        public var k: Double, kErr: Double
        public var quality: String
        /// Julian date of the 2MASS observation.
        public var jdate: Double
    }

    /// Faintest K (2MASS system) included.
    public static let limit = 14.5
    public var entries: [Entry]

    public init(populations: [SkyPopulation], seed: UInt64) {
        var list: [Entry] = []
        for pop in populations {
            var rng = Xoshiro256(seed: seed, "2mass", pop.programme.rawValue)
            // One scan date per field, as 2MASS observed a tile at once.
            let jdate = (rng.uniform(2_450_600.5, 2_451_900.5) * 1e5).rounded() / 1e5
            let epoch = 2000.0 + (jdate - 2_451_545.0) / 365.25
            for s in pop.sources where s.type == .star {
                let jw = s.mag(.J), hw = s.mag(.H), kw = s.mag(.K)
                guard jw.isFinite, hw.isFinite, kw.isFinite else { continue }
                let j2 = jw + 0.065 * (jw - hw)
                let h2 = hw - 0.070 * (jw - hw) + 0.030
                let k2 = kw - 0.010 * (jw - kw)
                guard k2 < Self.limit else { continue }
                func observe(_ m: Double, tenSigma: Double) -> (Double, Double, Character) {
                    let sigma = (0.02 * 0.02 + pow(0.1 * pow(10, 0.4 * (m - tenSigma)), 2)).squareRoot()
                    let q: Character = sigma <= 0.1086 ? "A" : sigma <= 0.1551 ? "B" : sigma <= 0.2171 ? "C" : "D"
                    return (((m + sigma * rng.gaussian()) * 1000).rounded() / 1000, (sigma * 1000).rounded() / 1000, q)
                }
                let (jm, je, jq) = observe(j2, tenSigma: 15.8)
                let (hm, he, hq) = observe(h2, tenSigma: 15.1)
                let (km, ke, kq) = observe(k2, tenSigma: 14.3)
                let errMaj = min(0.5, 0.06 + 0.15 * pow(10, 0.4 * (k2 - 14.5)))
                let p = s.position(epoch: epoch)
                let cosd = max(cos(p.dec * .pi / 180), 1e-6)
                let ra = p.ra + rng.gaussian(0, 0.7 * errMaj) / 3600 / cosd
                let dec = p.dec + rng.gaussian(0, 0.7 * errMaj) / 3600
                list.append(Entry(truthID: s.id, ra: ra, dec: dec, errMaj: (errMaj * 100).rounded() / 100,
                                  j: jm, jErr: je, h: hm, hErr: he, k: km, kErr: ke,
                                  quality: String([jq, hq, kq]), jdate: jdate))
            }
        }
        entries = list
    }

    /// Writes `twomass.fits` (and a CSV twin) into `directory`.
    public func write(to directory: URL) throws {
        let e = entries
        let columns: [TableColumn] = [
            .double("ra", e.map(\.ra), unit: "deg"),
            .double("dec", e.map(\.dec), unit: "deg"),
            .float("err_maj", e.map { Float($0.errMaj) }, unit: "arcsec"),
            .float("j_m", e.map { Float($0.j) }, unit: "mag"),
            .float("j_msigcom", e.map { Float($0.jErr) }, unit: "mag"),
            .float("h_m", e.map { Float($0.h) }, unit: "mag"),
            .float("h_msigcom", e.map { Float($0.hErr) }, unit: "mag"),
            .float("k_m", e.map { Float($0.k) }, unit: "mag"),
            .float("k_msigcom", e.map { Float($0.kErr) }, unit: "mag"),
            .string("ph_qual", e.map(\.quality), width: 3),
            .double("jdate", e.map(\.jdate), unit: "d"),
        ]
        try TableWriter.writeBoth(directory: directory, name: "twomass", extname: "TWOMASS", columns: columns,
                                  keywords: [
                                      FITSCard("CATALOG", .string("2MASS-like (simulated)"), comment: "External catalogue"),
                                      FITSCard("MAGLIMIT", .double(Self.limit), comment: "[mag] Faintest K included"),
                                  ])
    }
}
