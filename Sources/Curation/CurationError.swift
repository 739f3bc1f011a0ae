#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the Curation layer (config, logging, mail).
///
/// `description` is safe to show to a user: it names files, keys and hosts but never a
/// password or a connection string. `debugDescription` adds the stable code and technical
/// detail (errno text, the SMTP server's reply).
public struct CurationError: Error, Sendable, Equatable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// A stable numeric code (1000–1999 for this layer), suitable as an XML-RPC `faultCode`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// A config file named by `--config` or `WSA_CONFIG` does not exist or cannot be read.
        public static let configFileUnreadable = Code(rawValue: 1001)
        /// A config file is not valid TOML.
        public static let configSyntax = Code(rawValue: 1002)
        /// A config key is unknown, has the wrong type or an invalid value (file or environment).
        public static let configValue = Code(rawValue: 1003)
        /// A secret named by the config (e.g. `rpc.password_file`) cannot be read.
        public static let configSecret = Code(rawValue: 1004)
        /// The log directory or file cannot be created, opened, written or rotated.
        public static let logFile = Code(rawValue: 1101)
        /// The mail spool cannot be written or read.
        public static let mailSpool = Code(rawValue: 1201)
        /// The SMTP server could not be reached (resolve, connect, timeout, connection lost).
        public static let smtpConnection = Code(rawValue: 1202)
        /// The SMTP server answered with a temporary failure (4xx) or an unexpected reply.
        public static let smtpTransient = Code(rawValue: 1203)
        /// The SMTP server refused the message permanently (5xx).
        public static let smtpRejected = Code(rawValue: 1204)
        /// A mail address (admin, sender) or a HELO name is not acceptable.
        public static let mailAddress = Code(rawValue: 1205)

        public var description: String {
            switch self {
            case .configFileUnreadable: "configFileUnreadable"
            case .configSyntax: "configSyntax"
            case .configValue: "configValue"
            case .configSecret: "configSecret"
            case .logFile: "logFile"
            case .mailSpool: "mailSpool"
            case .smtpConnection: "smtpConnection"
            case .smtpTransient: "smtpTransient"
            case .smtpRejected: "smtpRejected"
            case .mailAddress: "mailAddress"
            default: "code\(rawValue)"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// One line, safe to show (no secrets).
    public var message: String
    /// Technical detail for logs and debugging (errno text, server reply); may be empty.
    public var detail: String

    public init(_ code: Code, _ message: String, detail: String = "") {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String { message }

    public var debugDescription: String {
        detail.isEmpty ? "[\(code.rawValue) \(code)] \(message)"
            : "[\(code.rawValue) \(code)] \(message) (\(detail))"
    }

    /// True for SMTP failures that may succeed if tried again later.
    public var isTransient: Bool {
        code == .smtpConnection || code == .smtpTransient
    }

    /// The one place a failed POSIX call becomes an error: `call` names the function,
    /// `subject` what it was applied to (a path, a host), `errno` the C error number.
    static func posix(_ code: Code, _ call: String, _ subject: String,
                      errno number: Int32 = errno) -> CurationError
    {
        let text = String(cString: strerror(number))
        return CurationError(code, "\(call) \(subject): \(text)", detail: "errno \(number)")
    }
}
