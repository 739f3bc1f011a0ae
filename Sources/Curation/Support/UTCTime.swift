public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// Locale-independent UTC date formatting, cheap enough to call for every log line.
public enum UTCTime {
    /// Broken-down UTC time of `date`, with milliseconds.
    private static func components(_ date: Date) -> (tm, Int) {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var millis = Int(((interval - Double(seconds)) * 1000).rounded(.down))
        if millis >= 1000 { seconds += 1; millis -= 1000 }
        if millis < 0 { millis = 0 }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return (parts, millis)
    }

    private static func pad(_ value: Int32, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `2025-03-01T23:59:59.123Z`
    static func iso8601(_ date: Date) -> String {
        let (t, ms) = components(date)
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }

    /// `20250301T235959.123Z`, sortable and safe in file names.
    static func compact(_ date: Date) -> String {
        let (t, ms) = components(date)
        return "\(pad(t.tm_year + 1900, 4))\(pad(t.tm_mon + 1, 2))\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2))\(pad(t.tm_min, 2))\(pad(t.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }

    /// yyyymmddhhmmss as a number (the WSA's fileTimeStamp).
    public static func timeStamp(_ date: Date) -> Int64 {
        let (t, _) = components(date)
        return Int64(t.tm_year + 1900) * 10_000_000_000 + Int64(t.tm_mon + 1) * 100_000_000 + Int64(t.tm_mday) * 1_000_000
            + Int64(t.tm_hour) * 10_000 + Int64(t.tm_min) * 100 + Int64(t.tm_sec)
    }

    /// RFC 5322 date: `Sat, 01 Mar 2025 23:59:59 +0000`.
    static func rfc5322(_ date: Date) -> String {
        let (t, _) = components(date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[Int(t.tm_wday)]), \(pad(t.tm_mday, 2)) \(months[Int(t.tm_mon)]) "
            + "\(t.tm_year + 1900) \(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)) +0000"
    }

    /// Days since 1970-01-01 in UTC: the unit of daily log rotation.
    static func dayNumber(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// `YYYY-MM-DD` of a UTC day number.
    static func dayString(_ day: Int) -> String {
        let (t, _) = components(Date(timeIntervalSince1970: Double(day) * 86_400))
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))"
    }

    /// The UTC day number of a `YYYY-MM-DD` prefix, or nil if `text` does not start with one.
    static func dayNumber(parsing text: Substring) -> Int? {
        let chars = Array(text.utf8.prefix(10))
        guard chars.count == 10, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-") else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for c in chars[range] {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(c - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(m - 1)
        parts.tm_mday = Int32(d)
        let seconds = timegm(&parts)
        return Int(seconds) / 86_400
    }
}

/// Facts about the running process used in log lines and mail.
enum ProcessFacts {
    /// The host name (no DNS lookup).
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        let name = String(decoding: bytes, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()

    /// The host name if it is usable in mail (`wsa@<host>`, EHLO), else `localhost`.
    static let mailDomain: String = {
        MailAddress.heloProblem(hostName) == nil ? hostName : "localhost"
    }()

    /// This process's id.
    static var pid: Int32 { getpid() }
}
