import Foundation
import Logging
import Testing
import TestSupport
@testable import Curation

@Suite struct ConfigTests {
    @Test func defaultsWithoutFileOrEnvironment() throws {
        let config = try WSAConfig.parse(toml: nil, file: nil, environment: [:],
                                         currentDirectory: "/srv/wsa")
        #expect(config.sourceFile == nil)
        #expect(config.paths.log == "/srv/wsa/.wsa/log")
        #expect(config.paths.delivery == URL(fileURLWithPath: "/srv/wsa/.wsa/delivery", isDirectory: true))
        #expect(config.mail.spool == "/srv/wsa/.wsa/spool/mail")
        #expect(config.logging.level == .debug)
        #expect(config.logging.fileName(program: "cu4") == "cu4.log")
        #expect(config.mail.admins.isEmpty)
        #expect(config.mail.smtpPort == 25)
        #expect(config.rpc.listenHost == "127.0.0.1")
        #expect(config.tools["swarp"] == "SWarp")
    }

    @Test func fileThenEnvironmentOverrides() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsaconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.toml")
        try """
            # a site config
            [database]
            url = "host=db.example.org dbname=wsa user=curator password=s3cret"

            [rpc]
            url = "https://load.example.org:8765/RPC2"
            user = "curator"
            password_file = "secrets/rpc.pw"
            listen_port = 9000

            [paths]
            delivery = "https://casu.example.org/wfcam/"
            archive = "/data/wsa"
            log = "logs"

            [logging]
            level = "info"
            file = "wsa-{program}.log"

            [mail]
            admins = ["alice@roe.example.org", "bob@roe.example.org"]
            smtp_host = "relay.example.org"
            smtp_port = 587
            timeout = 12.5

            [tools]
            swarp = "/opt/swarp/bin/SWarp"
            source-extractor = "sex"
            """.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("secrets"),
                                                withIntermediateDirectories: true)
        try "hunter2\n".write(to: dir.appendingPathComponent("secrets/rpc.pw"),
                              atomically: true, encoding: .utf8)
        let environment = [
            "WSA_MAIL_SMTP_PORT": "2525",
            "WSA_LOGGING_LEVEL": "ERROR",
            "WSA_MAIL_ADMINS": "carol@roe.example.org, dave@roe.example.org",
            "WSA_PATHS_SPOOL": "var/spool",
            "WSA_TOOLS_SCAMP": "/usr/local/bin/scamp",
            "WSA_RPC_USER": "",  // empty: ignored
            "WSA_PYTHON": "/usr/bin/python3",  // not a config key: ignored
        ]
        let config = try WSAConfig.load(configFile: file.path, environment: environment,
                                        currentDirectory: "/work/here")
        #expect(config.sourceFile == file.standardizedFileURL.path)
        // from the file
        #expect(config.database.url.contains("db.example.org"))
        #expect(config.rpc.url == "https://load.example.org:8765/RPC2")
        #expect(config.rpc.user == "curator")
        #expect(config.rpc.listenPort == 9000)
        #expect(config.rpc.passwordFile == dir.appendingPathComponent("secrets/rpc.pw").standardizedFileURL.path)
        #expect(try config.rpc.resolvedPassword() == "hunter2")
        #expect(config.paths.delivery.absoluteString == "https://casu.example.org/wfcam/")
        #expect(config.paths.deliveryIsRemote)
        #expect(config.paths.archive == "/data/wsa")
        #expect(config.paths.log == dir.appendingPathComponent("logs").standardizedFileURL.path)
        #expect(config.logging.fileName(program: "cu4") == "wsa-cu4.log")
        #expect(config.mail.smtpHost == "relay.example.org")
        #expect(config.mail.timeout == 12.5)
        #expect(config.tools["swarp"] == "/opt/swarp/bin/SWarp")
        #expect(config.tools["source_extractor"] == "sex")
        // from the environment
        #expect(config.mail.smtpPort == 2525)
        #expect(config.logging.level == .error)
        #expect(config.mail.admins == ["carol@roe.example.org", "dave@roe.example.org"])
        #expect(config.paths.spool == "/work/here/var/spool")
        #expect(config.mail.spool == "/work/here/var/spool/mail")
        #expect(config.tools["scamp"] == "/usr/local/bin/scamp")
        // defaults for what neither gave
        #expect(config.rpc.leaseSeconds == 60)
        #expect(config.paths.jpeg == "/work/here/.wsa/jpeg")
        // secrets never shown
        let shown = config.description
        #expect(!shown.contains("s3cret"))
        #expect(!shown.contains("hunter2"))
        #expect(shown.contains("smtp_port = 2525"))
    }

    @Test func lookupOrder() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsaconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = dir.appendingPathComponent("wsa.toml")
        let named = dir.appendingPathComponent("named.toml")
        let given = dir.appendingPathComponent("given.toml")
        try "[rpc]\nuser = \"local\"\n".write(to: local, atomically: true, encoding: .utf8)
        try "[rpc]\nuser = \"named\"\n".write(to: named, atomically: true, encoding: .utf8)
        try "[rpc]\nuser = \"given\"\n".write(to: given, atomically: true, encoding: .utf8)
        let env = ["WSA_CONFIG": named.path]

        #expect(try WSAConfig.load(configFile: "given.toml", environment: env,
                                   currentDirectory: dir.path).rpc.user == "given")
        #expect(try WSAConfig.load(configFile: nil, environment: env,
                                   currentDirectory: dir.path).rpc.user == "named")
        #expect(try WSAConfig.load(configFile: nil, environment: [:],
                                   currentDirectory: dir.path).rpc.user == "local")
        let empty = try TestEnvironment.temporaryDirectory("wsaconfig-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let defaults = try WSAConfig.load(configFile: nil, environment: [:], currentDirectory: empty.path)
        #expect(defaults.sourceFile == nil)
        #expect(defaults.rpc.user == "wsa")

        let error = try #require(throws: CurationError.self) {
            try WSAConfig.load(configFile: "missing.toml", environment: [:], currentDirectory: dir.path)
        }
        #expect(error.code == .configFileUnreadable)
        #expect(error.description.contains(dir.appendingPathComponent("missing.toml").path))
    }

    @Test func malformedFileNamesFileAndLine() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsaconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("broken.toml")
        try "[mail]\nsmtp_host = \"relay\"\nadmins = [\"a@b.org\"\nsmtp_port = 25\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let error = try #require(throws: CurationError.self) {
            try WSAConfig.load(configFile: file.path, environment: [:])
        }
        #expect(error.code == .configSyntax)
        #expect(error.description.hasPrefix(file.path + ":"))
        #expect(error.description.contains("invalid TOML"))
        let line = error.description.dropFirst(file.path.count + 1).prefix(while: \.isNumber)
        #expect(Int(line) != nil)
    }

    @Test func badValueNamesFileLineAndKey() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsaconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("typed.toml")
        try "[logging]\nlevel = \"info\"\n\n[mail]\nsmtp_host = \"relay\"\nsmtp_port = \"twenty-five\"\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let error = try #require(throws: CurationError.self) {
            try WSAConfig.load(configFile: file.path, environment: [:])
        }
        #expect(error.code == .configValue)
        #expect(error.description.hasPrefix("\(file.path):6: mail.smtp_port:"))

        let cases: [(String, String)] = [
            ("[mail]\nadmin = [\"a@b.org\"]\n", "mail.admin: unknown key"),
            ("[mial]\nadmins = []\n", "[mial]: unknown section"),
            ("level = \"debug\"\n", "level: unknown key"),
            ("[logging]\nlevel = \"verbose\"\n", "logging.level: \"verbose\" is not one of"),
            ("[mail]\nadmins = [\"root@localhost\\r\\nRCPT TO:<x@y>\"]\n", "mail.admins:"),
            ("[rpc]\nlisten_port = 70000\n", "rpc.listen_port: 70000 is out of range"),
            ("[paths]\ndelivery = \"ftp://casu/\"\n", "paths.delivery:"),
        ]
        for (text, expected) in cases {
            try text.write(to: file, atomically: true, encoding: .utf8)
            let error = try #require(throws: CurationError.self) {
                try WSAConfig.load(configFile: file.path, environment: [:])
            }
            #expect(error.description.contains(file.path), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"), "one line: \(error)")
        }
    }

    @Test func badEnvironmentValueNamesVariable() throws {
        let error = try #require(throws: CurationError.self) {
            try WSAConfig.parse(toml: nil, file: nil, environment: ["WSA_MAIL_SMTP_PORT": "abc"])
        }
        #expect(error.code == .configValue)
        #expect(error.description.contains("WSA_MAIL_SMTP_PORT"))
        #expect(error.description.contains("mail.smtp_port"))
    }

    @Test func exampleFileParsesAndDocumentsEveryKey() throws {
        let example = TestEnvironment.packageRoot.appendingPathComponent("wsa.example.toml")
        let config = try WSAConfig.load(configFile: example.path, environment: [:])
        #expect(config.logging.level == .debug)
        let text = try String(contentsOf: example, encoding: .utf8)
        for key in WSAConfig.keys {
            let documented = text.contains("\n\(key.name) = ") || text.contains("\n# \(key.name) = ")
            #expect(documented, "wsa.example.toml does not document \(key.dotted)")
            #expect(text.contains(key.environmentName), "wsa.example.toml does not name \(key.environmentName)")
        }
        for name in WSAConfig.Tools.defaults.keys {
            #expect(text.contains("\n\(name) = "), "wsa.example.toml does not list tool \(name)")
        }
    }

    @Test func redactsPasswordsInConnectionStrings() {
        #expect(WSAConfig.redact(conninfo: "postgresql://curator:s3cret@db:5432/wsa")
            == "postgresql://curator:***@db:5432/wsa")
        #expect(WSAConfig.redact(conninfo: "host=db password=s3cret dbname=wsa")
            == "host=db password=*** dbname=wsa")
        #expect(WSAConfig.redact(conninfo: "host=db password='s3 \\'cret' dbname=wsa")
            == "host=db password=*** dbname=wsa")
        #expect(WSAConfig.redact(conninfo: "postgresql://db/wsa?user=x&password=s3cret&sslmode=require")
            == "postgresql://db/wsa?user=x&password=***&sslmode=require")
        #expect(WSAConfig.redact(conninfo: "postgresql:///wsa") == "postgresql:///wsa")
    }

    @Test func unreadablePasswordFileIsNamedNotShown() throws {
        var rpc = WSAConfig.RPC()
        rpc.passwordFile = "/nonexistent/rpc.pw"
        let error = try #require(throws: CurationError.self) { try rpc.resolvedPassword() }
        #expect(error.code == .configSecret)
        #expect(error.description.contains("/nonexistent/rpc.pw"))
    }
}
