import Foundation

/// A WFCAM filter with the photometric properties the simulator uses.
public enum Passband: String, CaseIterable, Sendable, Codable, Comparable {
    case Z, Y, J, H, K, H2

    /// FILTER keyword value.
    public var filterName: String { rawValue }

    /// WSA filterID (1=Z, 2=Y, 3=J, 4=H, 5=K, 6=H2).
    public var filterID: Int {
        switch self {
        case .Z: return 1
        case .Y: return 2
        case .J: return 3
        case .H: return 4
        case .K: return 5
        case .H2: return 6
        }
    }

    /// Nominal zero point: magnitude giving 1 ADU/s at airmass 1.
    public var nominalZeroPoint: Double {
        switch self {
        case .Z: return 22.90
        case .Y: return 22.95
        case .J: return 23.05
        case .H: return 23.25
        case .K: return 22.55
        case .H2: return 20.30
        }
    }

    /// Extinction coefficient, mag per unit airmass (EXTINCT).
    public var extinction: Double {
        switch self {
        case .Z: return 0.08
        case .Y: return 0.07
        case .J: return 0.05
        case .H: return 0.05
        case .K: return 0.07
        case .H2: return 0.07
        }
    }

    /// Typical sky surface brightness, mag/arcsec².
    public var skyBrightness: Double {
        switch self {
        case .Z: return 18.9
        case .Y: return 17.4
        case .J: return 15.9
        case .H: return 13.9
        case .K: return 13.1
        case .H2: return 12.9
        }
    }

    /// Interstellar extinction A_band / A_K.
    public var extinctionRatioToK: Double {
        switch self {
        case .Z: return 4.2
        case .Y: return 3.4
        case .J: return 2.5
        case .H: return 1.55
        case .K, .H2: return 1.0
        }
    }

    public static func < (a: Passband, b: Passband) -> Bool { a.filterID < b.filterID }

    /// Parses a FILTER value (case-insensitive).
    public init?(name: String) {
        let n = name.uppercased()
        guard let p = Passband.allCases.first(where: { $0.rawValue == n }) else { return nil }
        self = p
    }
}
