public import Foundation

/// What a CU asks for when it begins a step: one run of one CU for one programme.
public struct StepRequest: Sendable, Hashable {
    /// The curation use case, 1–20.
    public var cuID: Int
    /// The programme: its name (`LAS`), its PROJECT string (`U/UKIDSS/LAS`), or its ID as text;
    /// nil for a run that is not about one programme.
    public var programme: String?
    /// The command line that started the run (program name first), kept so that `resume` can
    /// run it again.
    public var command: [String]
    /// The host the CU runs on.
    public var host: String
    /// The CU's software version.
    public var version: String
    /// The failed run this one re-runs, if any.
    public var resumeOf: Int?

    public init(cuID: Int, programme: String?, command: [String], host: String, version: String,
                resumeOf: Int? = nil) {
        self.cuID = cuID
        self.programme = programme
        self.command = command
        self.host = host
        self.version = version
        self.resumeOf = resumeOf
    }
}

/// One row of ProgrammeCurationHistory.
public struct CurationRun: Sendable, Hashable {
    public var cuEventID: Int
    public var cuID: Int
    public var cuName: String
    public var programme: String
    public var status: String
    public var startedAt: Date
    public var endedAt: Date?
    public var host: String
    public var version: String
    public var holder: String
    public var token: Int64
    public var command: [String]
    public var errorText: String
    public var resumeOf: Int?

    public init(cuEventID: Int, cuID: Int, cuName: String, programme: String, status: String, startedAt: Date, endedAt: Date?, host: String, version: String, holder: String, token: Int64, command: [String], errorText: String, resumeOf: Int?) {
        self.cuEventID = cuEventID
        self.cuID = cuID
        self.cuName = cuName
        self.programme = programme
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.host = host
        self.version = version
        self.holder = holder
        self.token = token
        self.command = command
        self.errorText = errorText
        self.resumeOf = resumeOf
    }
}

/// What loading one transaction file gave.
public struct LoadResult: Sendable, Hashable {
    /// The file's SHA-256 (its name in the spool).
    public var checksum: String
    /// The table it went into.
    public var table: String
    /// Rows the first load copied.
    public var rows: Int
    /// True when the file had been loaded before (by this step or a committed one): nothing
    /// was copied this time.
    public var alreadyLoaded: Bool
    /// The run that loaded it first.
    public var cuEventID: Int
    /// Seconds this call spent (verification and COPY).
    public var seconds: Double

    public init(checksum: String, table: String, rows: Int, alreadyLoaded: Bool, cuEventID: Int, seconds: Double) {
        self.checksum = checksum
        self.table = table
        self.rows = rows
        self.alreadyLoaded = alreadyLoaded
        self.cuEventID = cuEventID
        self.seconds = seconds
    }
}

/// How a step ended.
public struct StepOutcome: Sendable, Hashable {
    public var cuEventID: Int
    /// `succeeded` or `failed`.
    public var status: String
    /// Transaction files loaded in the step, and their rows.
    public var loads: Int
    public var rows: Int

    public init(cuEventID: Int, status: String, loads: Int, rows: Int) {
        self.cuEventID = cuEventID
        self.status = status
        self.loads = loads
        self.rows = rows
    }
}

