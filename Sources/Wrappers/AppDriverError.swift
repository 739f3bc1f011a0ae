/// The one error type of ``AppDriver``: an external program could not be found, started, or
/// did not succeed.
///
/// `description` is one line, safe to show: it names the tool, what happened and the last
/// meaningful line of the tool's stderr, never its arguments or environment (which may carry
/// secrets). `debugDescription` adds the stable code and the command line as run.
public struct AppDriverError: Error, Sendable, Equatable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// A stable numeric code (3100–3199 for AppDriver), suitable as an XML-RPC `faultCode`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// The program is neither at its configured path nor on `PATH`.
        public static let toolMissing = Code(rawValue: 3101)
        /// The program was found but could not be started (permissions, bad interpreter,
        /// missing working directory, resource limits).
        public static let spawnFailed = Code(rawValue: 3102)
        /// An input file or an output file for the program could not be opened.
        public static let redirectFailed = Code(rawValue: 3103)
        /// The program exited with a non-zero status.
        public static let failed = Code(rawValue: 3104)
        /// The program was ended by a signal it did not ask for (a crash, an outside kill).
        public static let signalled = Code(rawValue: 3105)
        /// The program ran past its time limit and was killed.
        public static let timedOut = Code(rawValue: 3106)
        /// The calling task was cancelled and the program was killed.
        public static let cancelled = Code(rawValue: 3107)

        public var description: String {
            switch self {
            case .toolMissing: "toolMissing"
            case .spawnFailed: "spawnFailed"
            case .redirectFailed: "redirectFailed"
            case .failed: "failed"
            case .signalled: "signalled"
            case .timedOut: "timedOut"
            case .cancelled: "cancelled"
            default: "code\(rawValue)"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The tool as the caller named it (`SWarp`, `source-extractor`).
    public var tool: String
    /// One line, safe to show.
    public var message: String
    /// Technical detail for logs (the command line, errno); may be empty.
    public var detail: String
    /// The finished run, for failures of a program that did run (`failed`, `signalled`,
    /// `timedOut`, `cancelled`).
    public var result: AppResult?

    public init(_ code: Code, tool: String, _ message: String, detail: String = "",
                result: AppResult? = nil)
    {
        self.code = code
        self.tool = tool
        self.message = message
        self.detail = detail
        self.result = result
    }

    public var description: String { message }

    public var debugDescription: String {
        detail.isEmpty ? "[\(code.rawValue) \(code)] \(message)"
            : "[\(code.rawValue) \(code)] \(message) (\(detail))"
    }
}
