#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An XML-RPC `dateTime.iso8601`: a calendar date and time of day to the second, with no time
/// zone (XML-RPC carries none; this system uses UTC by convention).
///
/// Written in Python's form `20051012T10:11:12`. Read in that form and also as
/// `2005-10-12T10:11:12` and `20051012T101112`, each optionally followed by `Z`.
/// Years run from 1 to 9999, as in Python's `datetime`.
public struct XMLRPCDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int

    /// Creates a date-time; nil when any field is out of range (including 30 February).
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Self.daysInMonth(year, month)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The UTC date-time of `date`, truncated to the second; nil outside years 1…9999.
    public init?(_ date: Date) {
        let t = date.timeIntervalSince1970
        guard t.isFinite, abs(t) < 1e12 else { return nil }
        let secs = Int(t.rounded(.down))
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = secs - days * 86400
        let (y, m, d) = Self.civil(fromDays: days)
        self.init(year: y, month: m, day: d, hour: rem / 3600, minute: rem / 60 % 60, second: rem % 60)
    }

    /// The instant this date-time names, read as UTC.
    public var date: Date {
        let days = Self.days(fromCivil: year, month, day)
        return Date(timeIntervalSince1970: Double(days * 86400 + hour * 3600 + minute * 60 + second))
    }

    /// Parses the accepted wire forms (see the type's documentation); nil when malformed.
    public init?(parsing text: some StringProtocol) {
        var b = Array(text.utf8)
        if b.last == UInt8(ascii: "Z") { b.removeLast() }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard i < b.count, (48...57).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        let y, mo, d, h, mi, s: Int?
        switch b.count {
        case 17 where b[8] == UInt8(ascii: "T") && b[11] == 58 && b[14] == 58:  // 20051012T10:11:12
            (y, mo, d, h, mi, s) = (num(0..<4), num(4..<6), num(6..<8), num(9..<11), num(12..<14), num(15..<17))
        case 15 where b[8] == UInt8(ascii: "T"):  // 20051012T101112
            (y, mo, d, h, mi, s) = (num(0..<4), num(4..<6), num(6..<8), num(9..<11), num(11..<13), num(13..<15))
        case 19 where b[4] == 45 && b[7] == 45 && b[10] == UInt8(ascii: "T") && b[13] == 58 && b[16] == 58:
            (y, mo, d, h, mi, s) = (num(0..<4), num(5..<7), num(8..<10), num(11..<13), num(14..<16), num(17..<19))
        default:
            return nil
        }
        guard let y, let mo, let d, let h, let mi, let s else { return nil }
        self.init(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
    }

    /// Python's wire form, `YYYYMMDDTHH:MM:SS`.
    public var description: String {
        func p(_ v: Int, _ w: Int) -> String { String(v).leftPadded(to: w) }
        return p(year, 4) + p(month, 2) + p(day, 2) + "T" + p(hour, 2) + ":" + p(minute, 2) + ":" + p(second, 2)
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.year, a.month, a.day, a.hour, a.minute, a.second)
            < (b.year, b.month, b.day, b.hour, b.minute, b.second)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
