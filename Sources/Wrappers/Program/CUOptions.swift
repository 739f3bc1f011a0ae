public import ArgumentParser
import Curation

/// The options every curation program takes.
public struct CUOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "The configuration file (default: $WSA_CONFIG, else ./wsa.toml).")
    public var config: String?

    @Option(name: [.customLong("programme"), .customLong("program")],
            help: "Only this programme (LAS, GPS, …); repeat for more. Default: every programme.")
    public var programmes: [String] = []

    @Flag(name: .long, help: "Say what would be done and why; change nothing.")
    public var dryRun = false

    @Flag(name: .long, help: "No progress bar and no summary line.")
    public var quiet = false

    @Option(name: .long, help: "Seconds to wait for the write lease when another program holds it.")
    public var leaseWait: Double = 900

    public init() {}
}

/// The software version every curation program reports (`--version`).
public let curationVersion = WSAVersion.current
