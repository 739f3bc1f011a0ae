import Foundation
import Logging

/// One key of the config file: where it lives, how it is read, how it is shown.
struct ConfigKey {
    /// The TOML section (`mail`).
    let section: String
    /// The key inside the section (`smtp_port`).
    let name: String
    /// True for values never shown (passwords).
    let secret: Bool
    /// Checks a raw value and stores it.
    let apply: (inout WSAConfig, ConfigReading) throws -> Void
    /// The current value as a TOML literal, or nil when unset.
    let render: (WSAConfig) -> String?

    init(_ section: String, _ name: String, secret: Bool = false,
         apply: @escaping (inout WSAConfig, ConfigReading) throws -> Void,
         render: @escaping (WSAConfig) -> String?)
    {
        self.section = section
        self.name = name
        self.secret = secret
        self.apply = apply
        self.render = render
    }

    /// `mail.smtp_port`
    var dotted: String { "\(section).\(name)" }

    /// `WSA_MAIL_SMTP_PORT`
    var environmentName: String { "WSA_\(section.uppercased())_\(name.uppercased())" }
}

/// TOML literal rendering.
enum TOMLLiteral {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func strings(_ list: [String]) -> String {
        "[" + list.map(string).joined(separator: ", ") + "]"
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}

extension WSAConfig {
    /// The known sections, in file order.
    static let sections = ["database", "rpc", "paths", "logging", "mail", "tools"]

    /// Every fixed key of every section (`[tools]` takes any key; see ``Tools``).
    static var keys: [ConfigKey] {
        [
            // [database]
            ConfigKey("database", "url", apply: { c, r in c.database.url = try r.nonEmptyString() },
                      render: { TOMLLiteral.string(WSAConfig.redact(conninfo: $0.database.url)) }),
            ConfigKey("database", "reader_url",
                      apply: { c, r in c.database.readerURL = try r.nonEmptyString() },
                      render: { TOMLLiteral.string(WSAConfig.redact(conninfo: $0.database.readerURL)) }),
            // [rpc]
            ConfigKey("rpc", "url", apply: { c, r in
                let text = try r.nonEmptyString()
                guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                      scheme == "http" || scheme == "https", url.host != nil else {
                    throw r.origin.error("expected an http:// or https:// URL")
                }
                c.rpc.url = text
            }, render: { TOMLLiteral.string(WSAConfig.redact(conninfo: $0.rpc.url)) }),
            ConfigKey("rpc", "user", apply: { c, r in c.rpc.user = try r.nonEmptyString() },
                      render: { TOMLLiteral.string($0.rpc.user) }),
            ConfigKey("rpc", "password", secret: true,
                      apply: { c, r in c.rpc.password = try r.string() },
                      render: { $0.rpc.password == nil ? nil : TOMLLiteral.string("***") }),
            ConfigKey("rpc", "password_file", apply: { c, r in c.rpc.passwordFile = try r.path() },
                      render: { $0.rpc.passwordFile.map(TOMLLiteral.string) }),
            ConfigKey("rpc", "listen_host",
                      apply: { c, r in c.rpc.listenHost = try r.nonEmptyString() },
                      render: { TOMLLiteral.string($0.rpc.listenHost) }),
            ConfigKey("rpc", "listen_port",
                      apply: { c, r in c.rpc.listenPort = try r.integer(in: 0...65535) },
                      render: { String($0.rpc.listenPort) }),
            ConfigKey("rpc", "max_body_bytes",
                      apply: { c, r in c.rpc.maxBodyBytes = try r.integer(in: 1...Int(Int32.max)) },
                      render: { String($0.rpc.maxBodyBytes) }),
            ConfigKey("rpc", "lease_seconds",
                      apply: { c, r in c.rpc.leaseSeconds = try r.integer(in: 1...86_400) },
                      render: { String($0.rpc.leaseSeconds) }),
            ConfigKey("rpc", "users_file", apply: { c, r in c.rpc.usersFile = try r.path() },
                      render: { TOMLLiteral.string($0.rpc.usersFile) }),
            ConfigKey("rpc", "tls_certificate", apply: { c, r in c.rpc.tlsCertificate = try r.path() },
                      render: { $0.rpc.tlsCertificate.map(TOMLLiteral.string) }),
            ConfigKey("rpc", "tls_key", apply: { c, r in c.rpc.tlsKey = try r.path() },
                      render: { $0.rpc.tlsKey.map(TOMLLiteral.string) }),
            // [paths]
            ConfigKey("paths", "delivery", apply: { c, r in
                let text = try r.nonEmptyString()
                let lower = text.lowercased()
                if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
                    guard let url = URL(string: text), url.host != nil else {
                        throw r.origin.error("\"\(text)\" is not a valid URL")
                    }
                    c.paths.delivery = url
                } else if lower.hasPrefix("file://") {
                    guard let url = URL(string: text), url.isFileURL else {
                        throw r.origin.error("\"\(text)\" is not a valid file URL")
                    }
                    c.paths.delivery = URL(fileURLWithPath: url.path, isDirectory: true)
                } else if lower.contains("://") {
                    throw r.origin.error("expected a directory or an http(s):// URL")
                } else {
                    c.paths.delivery = URL(fileURLWithPath: try r.path(), isDirectory: true)
                }
            }, render: {
                TOMLLiteral.string($0.paths.delivery.isFileURL ? $0.paths.delivery.path
                    : $0.paths.delivery.absoluteString)
            }),
            ConfigKey("paths", "archive", apply: { c, r in c.paths.archive = try r.path() },
                      render: { TOMLLiteral.string($0.paths.archive) }),
            ConfigKey("paths", "spool", apply: { c, r in c.paths.spool = try r.path() },
                      render: { TOMLLiteral.string($0.paths.spool) }),
            ConfigKey("paths", "quarantine", apply: { c, r in c.paths.quarantine = try r.path() },
                      render: { TOMLLiteral.string($0.paths.quarantine) }),
            ConfigKey("paths", "log", apply: { c, r in c.paths.log = try r.path() },
                      render: { TOMLLiteral.string($0.paths.log) }),
            ConfigKey("paths", "jpeg", apply: { c, r in c.paths.jpeg = try r.path() },
                      render: { TOMLLiteral.string($0.paths.jpeg) }),
            // [logging]
            ConfigKey("logging", "level", apply: { c, r in
                let names = Logger.Level.allCases.map(\.rawValue)
                c.logging.level = Logger.Level(rawValue: try r.choice(names))!
            }, render: { TOMLLiteral.string($0.logging.level.rawValue) }),
            ConfigKey("logging", "file", apply: { c, r in
                let name = try r.nonEmptyString()
                guard !name.contains("/"), name != ".", name != ".." else {
                    throw r.origin.error("must be a file name without '/' (the directory is paths.log)")
                }
                c.logging.file = name
            }, render: { TOMLLiteral.string($0.logging.file) }),
            ConfigKey("logging", "stderr", apply: { c, r in
                c.logging.stderr = StderrMode(rawValue: try r.choice(StderrMode.allCases.map(\.rawValue)))!
            }, render: { TOMLLiteral.string($0.logging.stderr.rawValue) }),
            ConfigKey("logging", "keep_days", apply: { c, r in c.logging.keepDays = try r.integer(in: 0...36500) },
                      render: { String($0.logging.keepDays) }),
            // [mail]
            ConfigKey("mail", "admins", apply: { c, r in
                let list = try r.stringList()
                for address in list {
                    if let problem = MailAddress.problem(address) {
                        throw r.origin.error("\"\(address)\": \(problem)")
                    }
                }
                c.mail.admins = list
            }, render: { TOMLLiteral.strings($0.mail.admins) }),
            ConfigKey("mail", "smtp_host", apply: { c, r in
                let host = try r.nonEmptyString()
                guard !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                    throw r.origin.error("\"\(host)\" is not a host name")
                }
                c.mail.smtpHost = host
            }, render: { TOMLLiteral.string($0.mail.smtpHost) }),
            ConfigKey("mail", "smtp_port",
                      apply: { c, r in c.mail.smtpPort = try r.integer(in: 1...65535) },
                      render: { String($0.mail.smtpPort) }),
            ConfigKey("mail", "from", apply: { c, r in
                let address = try r.nonEmptyString()
                if let problem = MailAddress.problem(address) {
                    throw r.origin.error("\"\(address)\": \(problem)")
                }
                c.mail.from = address
            }, render: { TOMLLiteral.string($0.mail.from) }),
            ConfigKey("mail", "helo", apply: { c, r in
                let name = try r.nonEmptyString()
                if let problem = MailAddress.heloProblem(name) {
                    throw r.origin.error("\"\(name)\": \(problem)")
                }
                c.mail.helo = name
            }, render: { TOMLLiteral.string($0.mail.helo) }),
            ConfigKey("mail", "timeout", apply: { c, r in c.mail.timeout = try r.seconds() },
                      render: { TOMLLiteral.number($0.mail.timeout) }),
            ConfigKey("mail", "spool", apply: { c, r in c.mail.spool = try r.path() },
                      render: { TOMLLiteral.string($0.mail.spool) }),
            ConfigKey("mail", "retry_seconds",
                      apply: { c, r in c.mail.retrySeconds = try r.seconds() },
                      render: { TOMLLiteral.number($0.mail.retrySeconds) }),
            ConfigKey("mail", "retry_max_seconds",
                      apply: { c, r in c.mail.retryMaxSeconds = try r.seconds() },
                      render: { TOMLLiteral.number($0.mail.retryMaxSeconds) }),
            ConfigKey("mail", "digest_seconds",
                      apply: { c, r in c.mail.digestSeconds = try r.seconds() },
                      render: { TOMLLiteral.number($0.mail.digestSeconds) }),
        ]
    }

    /// Reads one `[tools]` entry: a program name (looked up on `PATH`) or a path.
    static func applyTool(_ name: String, _ config: inout WSAConfig, _ reading: ConfigReading) throws {
        let value = try reading.nonEmptyString()
        config.tools.paths[name] = value.contains("/") ? try reading.path() : value
    }

    /// Masks the password in a libpq conninfo (`password=…`) or URL (`user:…@host`).
    public static func redact(conninfo: String) -> String {
        var text = conninfo
        // URL form: scheme://user:password@host
        if let schemeEnd = text.range(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"),
               let colon = authority[..<at].firstIndex(of: ":")
            {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        // Key/value form and URL query: password=secret
        var result = ""
        var remaining = Substring(text)
        while let range = remaining.range(of: "password=", options: .caseInsensitive) {
            result += remaining[..<range.upperBound]
            remaining = remaining[range.upperBound...]
            var end = remaining.startIndex
            if remaining.first == "'" {
                // quoted libpq value, with \' escapes
                end = remaining.index(after: end)
                while end < remaining.endIndex, remaining[end] != "'" {
                    if remaining[end] == "\\" { end = remaining.index(after: end) }
                    if end < remaining.endIndex { end = remaining.index(after: end) }
                }
                if end < remaining.endIndex { end = remaining.index(after: end) }
            } else {
                end = remaining.firstIndex(where: { $0 == " " || $0 == "&" }) ?? remaining.endIndex
            }
            result += "***"
            remaining = remaining[end...]
        }
        return result + remaining
    }
}
