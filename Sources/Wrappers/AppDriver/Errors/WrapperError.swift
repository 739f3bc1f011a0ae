public import RPCContract

/// The one error type of the wrapper layer: one line a person can act on, naming the file or
/// tool the problem is in, ready for the log, the ERROR mail and the Quarantine row.
///
/// `code` is stable (suitable as an XML-RPC `faultCode`): 2001–2013 are dbrpcserver's own
/// fault codes (``ServerFault``, the contract's list) passed through by ``DbHandler``; 31xx AppDriver, 32xx FitsReader, 33xx DbHandler,
/// 34xx QueryHandler, 35xx CompressHandler, 36xx the delivery area.
/// `description` never shows a command's arguments or environment (they may carry secrets);
/// `debugDescription` adds the code and the technical detail.
public struct WrapperError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        // AppDriver
        /// The program is neither at its configured path nor on `PATH`.
        public static let toolMissing = Code(rawValue: 3101)
        /// The program was found but could not be started.
        public static let spawnFailed = Code(rawValue: 3102)
        /// An input or output file for the program could not be opened.
        public static let redirectFailed = Code(rawValue: 3103)
        /// The program exited with a non-zero status.
        public static let failed = Code(rawValue: 3104)
        /// The program was ended by a signal it did not ask for (a crash, an outside kill).
        public static let signalled = Code(rawValue: 3105)
        /// The program ran past its time limit and was killed.
        public static let timedOut = Code(rawValue: 3106)
        /// The calling task was cancelled and the program was killed.
        public static let cancelled = Code(rawValue: 3107)

        // FitsReader
        /// The file cannot be opened or read as FITS (truncated, corrupt, missing).
        public static let unreadable = Code(rawValue: 3201)
        /// A keyword the curation needs is absent or has no usable value.
        public static let missingKeyword = Code(rawValue: 3202)
        /// PROJECT is not a programme identifier, or names a programme the archive does not know.
        public static let unknownProgramme = Code(rawValue: 3203)
        /// The HDU is not a CASU catalogue (or not an image, where one is needed).
        public static let wrongContents = Code(rawValue: 3204)
        /// The header has no usable celestial WCS.
        public static let noWCS = Code(rawValue: 3205)
        /// A file (transaction file, product) could not be written.
        public static let writeFailed = Code(rawValue: 3206)

        // DbHandler
        /// The server cannot be reached, or the HTTP exchange failed.
        public static let unreachable = Code(rawValue: 3301)
        /// The server refused the credentials (HTTP 401) or the role (403).
        public static let notAuthorized = Code(rawValue: 3302)
        /// The server answered something that is not an XML-RPC response.
        public static let badResponse = Code(rawValue: 3303)
        /// The client holds no lease, or lost it.
        public static let noLease = Code(rawValue: 3304)
        /// A configuration value (URL, credentials, paths) is unusable.
        public static let configuration = Code(rawValue: 3305)
        /// Another instance of a single-instance program is running.
        public static let alreadyRunning = Code(rawValue: 3306)

        // QueryHandler
        /// The database cannot be reached.
        public static let unavailable = Code(rawValue: 3401)
        /// The query writes, or is not one query.
        public static let refused = Code(rawValue: 3402)
        /// The statement timeout cancelled it.
        public static let timeout = Code(rawValue: 3403)
        /// PostgreSQL reported another error.
        public static let queryFailed = Code(rawValue: 3404)

        // CompressHandler
        /// A JPEG could not be made from an image extension.
        public static let compressFailed = Code(rawValue: 3501)

        // Delivery area
        /// The delivery area cannot be listed or reached.
        public static let deliveryUnavailable = Code(rawValue: 3601)
        /// A file could not be fetched, or its copy does not match.
        public static let transferFailed = Code(rawValue: 3602)

        static let names: [Int: String] = [
            3101: "toolMissing", 3102: "spawnFailed", 3103: "redirectFailed", 3104: "failed",
            3105: "signalled", 3106: "timedOut", 3107: "cancelled",
            3201: "unreadable", 3202: "missingKeyword", 3203: "unknownProgramme", 3204: "wrongContents",
            3205: "noWCS", 3206: "writeFailed",
            3301: "unreachable", 3302: "notAuthorized", 3303: "badResponse", 3304: "noLease",
            3305: "configuration", 3306: "alreadyRunning",
            3401: "unavailable", 3402: "refused", 3403: "timeout", 3404: "queryFailed",
            3501: "compressFailed", 3601: "deliveryUnavailable", 3602: "transferFailed",
        ]

        /// The code of one of dbrpcserver's faults (2001–2013, ``ServerFault``), passed through
        /// by DbHandler.
        public init(_ fault: ServerFault) { self.rawValue = fault.rawValue }

        public var description: String { Self.names[rawValue] ?? ServerFault(code: rawValue)?.name ?? "code\(rawValue)" }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The problem, without the file name.
    public var problem: String
    /// The file the problem is in, when there is one.
    public var file: String?
    /// The external program, for AppDriver failures (`SWarp`, `source-extractor`).
    public var tool: String?
    /// Technical detail for logs (the command line, errno); may be empty.
    public var detail: String
    /// The finished run, for failures of a program that did run.
    public var result: AppResult?

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.problem = Self.printable(message)
        self.file = nil
        self.tool = nil
        self.detail = ""
        self.result = nil
    }

    /// A problem with a file: `description` is "file: problem"; `detail` (for the log) is
    /// what a library said in full.
    public init(_ code: Code, file: String, _ problem: String, detail: String = "") {
        self.init(code, problem)
        self.file = file
        self.detail = detail
    }

    /// A problem running an external tool.
    public init(_ code: Code, tool: String, _ message: String, detail: String = "", result: AppResult? = nil) {
        self.init(code, message)
        self.tool = tool
        self.detail = detail
        self.result = result
    }

    /// One line of at most 1000 characters: control characters (a damaged file's bytes quoted
    /// by cfitsio, line breaks) become `?`.
    static func printable(_ text: String) -> String {
        var line = String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
        if line.count > 1000 { line = String(line.prefix(999)) + "…" }
        return line
    }

    /// The one line: the file (if any) and the problem.
    public var message: String { file.map { "\($0): \(problem)" } ?? problem }

    public var description: String { message }

    public var debugDescription: String {
        detail.isEmpty ? "[\(code.rawValue) \(code)] \(message)" : "[\(code.rawValue) \(code)] \(message) (\(detail))"
    }

    /// Whether this is a problem of the input file (set it aside and go on) rather than of the
    /// archive (disk, database, server: stop).
    public var isBadInput: Bool {
        [.unreadable, .missingKeyword, .unknownProgramme, .wrongContents, .noWCS, .compressFailed].contains(code)
    }

    /// Whether this spoils one product only (a bad input, or the tool failing on it), so a run
    /// goes on with the others, rather than the archive or the installation (stop).
    public var isProductProblem: Bool {
        isBadInput || [.failed, .signalled, .timedOut, Code(.invalidArgument)].contains(code)
    }

    /// The one line for the log about `file`: this error's own line when it names a file,
    /// else "file: problem".
    public func line(naming file: String) -> String {
        let line = self.file != nil ? message : "\(file): \(message)"
        return detail.isEmpty ? line : "\(line) [\(detail)]"
    }

    /// The server's fault this error passes on, when it is one (``ServerFault``).
    public var fault: ServerFault? { ServerFault(code: code.rawValue) }

    /// True when the lease this error came under is gone (a new writeLock is needed).
    public var isLeaseLost: Bool { code == .noLease || fault?.isLeaseLost == true }
}
