import Foundation

/// A UKIDSS survey programme: its field, passbands, exposure set-up and source densities.
public enum Programme: String, CaseIterable, Sendable, Codable {
    case LAS, GPS, GCS, DXS, UDS

    /// PROJECT keyword value, e.g. `U/UKIDSS/LAS`.
    public var project: String { "U/UKIDSS/\(rawValue)" }

    /// Passband prescription, in the order observed.
    public var passbands: [Passband] {
        switch self {
        case .LAS: return [.Y, .J, .H, .K]
        case .GPS: return [.J, .H, .K, .H2]
        case .GCS: return [.Z, .Y, .J, .H, .K]
        case .DXS: return [.J, .K]
        case .UDS: return [.J, .H, .K]
        }
    }

    /// Field centre (degrees, J2000) around which the pointings are laid out.
    public var fieldCentre: (ra: Double, dec: Double) {
        switch self {
        case .LAS: return (180.25, 0.60)      // equatorial, high galactic latitude
        case .GPS: return (281.55, -2.30)     // Galactic plane near l = 30°
        case .GCS: return (56.75, 24.12)      // Pleiades
        case .DXS: return (242.75, 54.50)     // ELAIS N1
        case .UDS: return (34.50, -5.10)      // SXDS / UDS
        }
    }

    /// Time of one exposure (EXP_TIME, seconds) in a passband.
    public func exposureTime(_ band: Passband) -> Double {
        switch self {
        case .GPS: return band == .H2 ? 20 : 10
        case .GCS, .LAS, .DXS, .UDS: return 10
        }
    }

    /// Jitter positions combined into one `_sf_st` stack (NJITTER).
    public func jitters(_ band: Passband) -> Int {
        switch self {
        case .LAS: return 4
        case .GPS: return band == .H2 ? 9 : 4
        case .GCS: return 2
        case .DXS, .UDS: return 9
        }
    }

    /// Stars per square degree brighter than K = 18 (before `--star-density` scaling).
    public var starDensity: Double {
        switch self {
        case .LAS: return 2500
        case .GPS: return 30000
        case .GCS: return 4000
        case .DXS: return 2200
        case .UDS: return 2000
        }
    }

    /// Galaxies per square degree brighter than K = 18.
    public var galaxyDensity: Double {
        switch self {
        case .GPS: return 800
        default: return 4000
        }
    }

    /// Interstellar extinction A_K range of field stars.
    public var reddeningRange: ClosedRange<Double> {
        switch self {
        case .GPS: return 0.1...1.2
        case .GCS: return 0.01...0.05
        default: return 0.0...0.02
        }
    }

    /// Index used in source identifiers (LAS 1 … UDS 5).
    public var index: Int { Programme.allCases.firstIndex(of: self)! + 1 }

    /// Parses `LAS`, `gps`, `U/UKIDSS/GCS` …
    public init?(name: String) {
        var n = name.uppercased()
        if n.hasPrefix("U/UKIDSS/") { n.removeFirst(9) }
        guard let p = Programme(rawValue: n) else { return nil }
        self = p
    }
}
