import Foundation

/// A UT night, written `YYYYMMDD` as in CASU directory and file names.
public struct Night: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYYMMDD`; nil when it is not a real calendar date.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.count == 8, t.allSatisfy(\.isASCII), let v = Int(t) else { return nil }
        let y = v / 10000, m = (v / 100) % 100, d = v % 100
        guard (1990...2100).contains(y), (1...12).contains(m), d >= 1,
              d <= Night.daysInMonth(y, m) else { return nil }
        year = y; month = m; day = d
    }

    /// The night starting at MJD `mjd` (its integer part).
    public init(mjd: Int) {
        let (y, m, d) = Night.calendarDate(mjd: mjd)
        year = y; month = m; day = d
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYYMMDD`.
    public var description: String { String(format: "%04d%02d%02d", year, month, day) }

    /// The delivery directory name, `YYYYMMDD_v1`.
    public var directoryName: String { description + "_v1" }

    /// Modified Julian Date of 0h UT on this date.
    public var mjd: Int {
        // Fliegel & Van Flandern, then JD − 2400001 (JD at noon → MJD at midnight).
        let a = (14 - month) / 12
        let y = year + 4800 - a
        let m = month + 12 * a - 3
        let jdn = day + (153 * m + 2) / 5 + 365 * y + y / 4 - y / 100 + y / 400 - 32045
        return jdn - 2_400_001
    }

    /// The night `days` later.
    public func adding(days: Int) -> Night { Night(mjd: mjd + days) }

    public static func < (a: Night, b: Night) -> Bool { a.mjd < b.mjd }

    /// Gregorian date of an MJD.
    static func calendarDate(mjd: Int) -> (Int, Int, Int) {
        let jdn = mjd + 2_400_001
        let a = jdn + 32044
        let b = (4 * a + 3) / 146097
        let c = a - 146097 * b / 4
        let d = (4 * c + 3) / 1461
        let e = c - 1461 * d / 4
        let m = (5 * e + 2) / 153
        let day = e - (153 * m + 2) / 5 + 1
        let month = m + 3 - 12 * (m / 10)
        let year = 100 * b + d - 4800 + m / 10
        return (year, month, day)
    }

    /// ISO-8601 UT time of an MJD, millisecond precision (`2005-10-12T05:30:00.000`).
    public static func isoTime(mjd: Double) -> String {
        var day = Int(mjd.rounded(.down))
        var ms = Int(((mjd - Double(day)) * 86_400_000).rounded())
        if ms >= 86_400_000 { day += 1; ms -= 86_400_000 }
        let (y, m, d) = calendarDate(mjd: day)
        let h = ms / 3_600_000, mi = (ms / 60000) % 60, s = (ms / 1000) % 60, f = ms % 1000
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d", y, m, d, h, mi, s, f)
    }

    /// Julian epoch (years) of an MJD: 2000.0 at MJD 51544.5.
    public static func epoch(mjd: Double) -> Double { 2000.0 + (mjd - 51544.5) / 365.25 }
}
