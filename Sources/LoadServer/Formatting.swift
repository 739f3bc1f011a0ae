import Foundation
import RPCContract

/// ISO 8601 UTC with milliseconds, for messages.
func isoTime(_ date: Date?) -> String {
    date.map(WireTime.format) ?? "an unknown time"
}
