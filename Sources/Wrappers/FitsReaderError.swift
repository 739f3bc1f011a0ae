/// What went wrong reading a delivered FITS file: one line naming the file and the problem,
/// ready for the log, the ERROR mail and the Quarantine row.
public struct FitsReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The file cannot be opened or read as FITS (truncated, corrupt, missing).
        public static let unreadable = Code(rawValue: 3201)
        /// A keyword the curation needs is absent or has no usable value.
        public static let missingKeyword = Code(rawValue: 3202)
        /// PROJECT is not a programme identifier of the form `U/UKIDSS/<programme>`.
        public static let unknownProgramme = Code(rawValue: 3203)
        /// The HDU is not a CASU catalogue (or not an image, where one is needed).
        public static let wrongContents = Code(rawValue: 3204)
        /// The header has no usable celestial WCS.
        public static let noWCS = Code(rawValue: 3205)
        /// The transaction file could not be written.
        public static let writeFailed = Code(rawValue: 3206)
    }

    public var code: Code
    /// The file the problem is in.
    public var file: String
    /// The problem, without the file name.
    public var problem: String

    public init(_ code: Code, file: String, _ problem: String) {
        self.code = code
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
