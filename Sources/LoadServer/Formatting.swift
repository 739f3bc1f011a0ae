import Foundation

/// ISO 8601 UTC with milliseconds, for messages.
func isoTime(_ date: Date?) -> String {
    guard let date else { return "an unknown time" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
