import Foundation
public import Logging

/// A swift-log handler writing one line per message (see ``LogLine``) to a
/// ``RotatingLogFile``. Write failures are reported on stderr, at most once a minute.
public struct FileLogHandler: LogHandler {
    /// The shared file.
    public let file: RotatingLogFile
    /// The program name written on every line.
    public let program: String
    /// The logger's label.
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(file: RotatingLogFile, program: String, label: String, level: Logger.Level,
                metadataProvider: Logger.MetadataProvider? = nil)
    {
        self.file = file
        self.program = program
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(metadata, metadataProvider, event.metadata)
        do {
            try file.write { date in
                LogLine.format(date: date, level: event.level, program: program, label: label,
                               message: event.message.description, metadata: merged)
            }
        } catch {
            StandardError.report("wsa: cannot write log \(file.path): \(error)", throttle: "file")
        }
    }
}

/// Handler metadata, then the provider's, then the event's (later wins).
func mergedMetadata(_ handler: Logger.Metadata, _ provider: Logger.MetadataProvider?,
                    _ event: Logger.Metadata?) -> Logger.Metadata
{
    var merged = handler
    if let provider {
        merged.merge(provider.get(), uniquingKeysWith: { _, new in new })
    }
    if let event {
        merged.merge(event, uniquingKeysWith: { _, new in new })
    }
    return merged
}
