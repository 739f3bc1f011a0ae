public import Foundation
public import Logging

/// The one configuration of every WSA program, read from one TOML file.
///
/// Lookup order (see ``load(configFile:environment:currentDirectory:)``): `--config FILE`,
/// else `WSA_CONFIG`, else `./wsa.toml` if present, else the defaults. Environment variables
/// `WSA_<SECTION>_<KEY>` (e.g. `WSA_MAIL_SMTP_PORT`) override the file. Relative paths in the
/// file are taken relative to the file's directory; relative paths from the environment or the
/// defaults relative to the current directory. Every path in a loaded config is absolute.
/// `wsa.example.toml` at the repository root documents every key.
public struct WSAConfig: Sendable, Equatable {
    /// `[database]`: PostgreSQL connection strings (libpq conninfo or URL).
    public struct Database: Sendable, Equatable {
        /// Writer/admin connection, used by `dbrpcserver` and `wsadb`.
        public var url: String = "postgresql:///wsa"
        /// Read-only role, used by `QueryHandler` and `archiveweb`.
        public var readerURL: String = "postgresql://wsa_reader@/wsa"
    }

    /// `[rpc]`: the XML-RPC daemon `dbrpcserver`, client and server side.
    public struct RPC: Sendable, Equatable {
        /// Where clients reach the daemon.
        public var url: String = "http://127.0.0.1:8765/RPC2"
        /// The user clients authenticate as.
        public var user: String = "wsa"
        /// The password, inline (prefer ``passwordFile``).
        public var password: String? = nil
        /// A file whose first line is the password (absolute path once loaded).
        public var passwordFile: String? = nil
        /// Server side: the address to listen on (loopback by default).
        public var listenHost: String = "127.0.0.1"
        /// Server side: the TCP port to listen on.
        public var listenPort: Int = 8765
        /// Server side: requests with a larger body are refused (413).
        public var maxBodyBytes: Int = 16 * 1024 * 1024
        /// Server side: how long a write lease lives without a heartbeat, in seconds.
        public var leaseSeconds: Int = 60
        /// Server side: the users file (`name:role:pbkdf2-sha256$…` lines; see `dbrpcserver
        /// hash-secret`).
        public var usersFile: String = ".wsa/rpc-users"
        /// Server side: PEM certificate chain and private key; both set means HTTPS.
        public var tlsCertificate: String? = nil
        public var tlsKey: String? = nil

        /// The password: ``password`` if set, else the first line of ``passwordFile``, else nil.
        /// The error names the file, never its content.
        public func resolvedPassword() throws -> String? {
            if let password { return password }
            guard let passwordFile else { return nil }
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw CurationError(.configSecret,
                                    "cannot read rpc.password_file \(passwordFile)")
            }
            let text = String(decoding: data, as: UTF8.self)
            let first = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
                .first.map(String.init) ?? ""
            return first.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
    }

    /// `[paths]`: where files live. Absolute once loaded.
    public struct Paths: Sendable, Equatable {
        /// The delivery area CASU delivers into: a `file:` URL of a directory or an
        /// `http(s):` URL.
        public var delivery: URL = URL(fileURLWithPath: ".wsa/delivery")
        /// Root of the archive file system (ingested FITS files, products).
        public var archive: String = ".wsa/archive"
        /// Spool directory (transaction files, uploads, the mail spool by default).
        public var spool: String = ".wsa/spool"
        /// Where bad input files are moved aside.
        public var quarantine: String = ".wsa/quarantine"
        /// Where each program writes `<program>.log` and its daily archives.
        public var log: String = ".wsa/log"
        /// Where JPEG previews are written.
        public var jpeg: String = ".wsa/jpeg"

        /// True when the delivery area is reached over HTTP rather than the file system.
        public var deliveryIsRemote: Bool { !delivery.isFileURL }
    }

    /// When log messages also go to standard error.
    public enum StderrMode: String, Sendable, Equatable, CaseIterable {
        /// Warnings and above go to stderr when stderr is a terminal (the default).
        case auto
        /// Warnings and above always go to stderr (daemons under systemd).
        case always
        /// Never write log messages to stderr.
        case never
    }

    /// `[logging]`.
    public struct LogSettings: Sendable, Equatable {
        /// The lowest level written: `debug` in development, `error` in operation.
        public var level: Logger.Level = .debug
        /// The log file name inside `paths.log`; `{program}` is replaced by the program name.
        public var file: String = "{program}.log"
        /// When warnings and above are copied to stderr.
        public var stderr: StderrMode = .auto
        /// Days the compressed archives of rotated logs are kept (0: for ever).
        public var keepDays: Int = 90

        /// The log file name for `program`.
        public func fileName(program: String) -> String {
            file.replacingOccurrences(of: "{program}", with: program)
        }
    }

    /// `[mail]`: ERROR alerts to the admin list.
    public struct Mail: Sendable, Equatable {
        /// Who receives every ERROR; empty disables alert mail.
        public var admins: [String] = []
        /// The SMTP relay (no TLS/AUTH yet: a loopback or trusted relay).
        public var smtpHost: String = "localhost"
        /// The SMTP relay's port.
        public var smtpPort: Int = 25
        /// The sender address (default `wsa@<host name>`).
        public var from: String = "wsa@\(ProcessFacts.mailDomain)"
        /// The name given in EHLO/HELO (default: the host name).
        public var helo: String = ProcessFacts.mailDomain
        /// Seconds to wait for each SMTP step (connect, each reply).
        public var timeout: Double = 30
        /// Where alerts wait until the relay has accepted them (default `<paths.spool>/mail`).
        public var spool: String = ".wsa/spool/mail"
        /// First delay before retrying after a failed delivery, in seconds (doubles each time).
        public var retrySeconds: Double = 5
        /// Longest delay between retries, in seconds.
        public var retryMaxSeconds: Double = 600
        /// A run's ERRORs leave as one mail at its end; in a daemon, when the oldest waiting
        /// one is this many seconds old.
        public var digestSeconds: Double = 600
    }

    /// `[tools]`: paths of external programs, by name (`source_extractor`, `swarp`, …).
    public struct Tools: Sendable, Equatable {
        /// Tool name (lower case, `_` for `-`) → program path or name to find on `PATH`.
        public var paths: [String: String] = Tools.defaults

        /// The defaults: Debian's program names.
        public static let defaults: [String: String] = [
            "gzip": "/bin/gzip",
            "source_extractor": "source-extractor",
            "swarp": "SWarp",
            "scamp": "scamp",
            "fitsverify": "fitsverify",
        ]

        /// The configured program for `name`, if any.
        public subscript(name: String) -> String? { paths[name] }
    }

    /// `[database]`
    public var database = Database()
    /// `[rpc]`
    public var rpc = RPC()
    /// `[paths]`
    public var paths = Paths()
    /// `[logging]`
    public var logging = LogSettings()
    /// `[mail]`
    public var mail = Mail()
    /// `[tools]`
    public var tools = Tools()
    /// The file this config was read from, or nil when only defaults and environment apply.
    public var sourceFile: String? = nil

    /// The built-in defaults, with relative paths made absolute against `currentDirectory`.
    public init(currentDirectory: String = FileManager.default.currentDirectoryPath) {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
        }
        paths.delivery = URL(fileURLWithPath: absolute(".wsa/delivery"), isDirectory: true)
        paths.archive = absolute(paths.archive)
        paths.spool = absolute(paths.spool)
        paths.quarantine = absolute(paths.quarantine)
        paths.log = absolute(paths.log)
        paths.jpeg = absolute(paths.jpeg)
        mail.spool = URL(fileURLWithPath: paths.spool).appendingPathComponent("mail").path
    }
}
