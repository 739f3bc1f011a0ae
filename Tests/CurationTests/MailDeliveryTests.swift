import Foundation
import Logging
import Testing
import TestSupport
@testable import Curation

/// Alert mail through a real SMTP server (aiosmtpd run by Debian's Python).
@Suite(.serialized) struct MailDeliveryTests {
    /// A config whose log, spool and mail point into `dir` and whose relay is `port`.
    func config(_ dir: URL, port: Int, timeout: Double = 10,
                admins: [String] = ["alice@roe.example.org", "bob@roe.example.org"]) throws -> WSAConfig
    {
        let toml = """
            [paths]
            log = "log"
            spool = "spool"
            [logging]
            level = "debug"
            stderr = "never"
            [mail]
            admins = [\(admins.map { "\"\($0)\"" }.joined(separator: ", "))]
            smtp_host = "127.0.0.1"
            smtp_port = \(port)
            from = "wsa@test.example.org"
            timeout = \(timeout)
            retry_seconds = 60
            """
        return try WSAConfig.parse(toml: toml, file: dir.appendingPathComponent("wsa.toml").path,
                                   environment: [:], currentDirectory: dir.path)
    }

    func logger(_ logging: WSALogging) -> Logger {
        Logger(label: "wsa.\(logging.program)") { logging.makeHandler(label: $0) }
    }

    @Test func errorReachesRealSMTPServer() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsamail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try SMTPTestServer(port: try freePort(), directory: dir)
        defer { server.stop() }
        let logging = try WSALogging(program: "cutest", config: try config(dir, port: server.port))
        defer { logging.shutdown(timeout: 5) }
        var log = logger(logging)
        log.logLevel = .trace  // applies to every handler; the mail handler still waits for errors

        log.debug("detail, not mailed")
        log.info("routine, not mailed")
        log.warning("suspicious, not mailed")
        log.error("zero point of w_20250301_00042.fit is NaN\n.\n.leading dot line",
                  metadata: ["night": "20250301"])
        logging.flushAlerts()  // a run's alerts leave together, at its end or now

        #expect(server.waitForMessages(1, timeout: 30))
        #expect(logging.mailer?.flush(timeout: 10) == true)
        let messages = server.messages
        #expect(messages.count == 1)
        let message = SMTPTestServer.readable(try #require(messages.first))
        let host = ProcessFacts.hostName
        #expect(message.contains("Subject: [wsa ERROR] cutest@\(host): zero point of w_20250301_00042.fit is NaN . .leading dot line"))
        #expect(message.contains("From: wsa@test.example.org"))
        #expect(message.contains("To: alice@roe.example.org, bob@roe.example.org"))
        // Dot-stuffing round trip: the lone "." line did not end DATA early.
        #expect(message.contains("\n.\n.leading dot line\n"))
        #expect(message.contains("night = 20250301"))
        #expect(Set(server.recipients) == ["alice@roe.example.org", "bob@roe.example.org"])
        #expect(MailSpool(directory: logging.mailer!.spool.directory).pending().isEmpty)
        // The same message went to the log file too.
        let text = try String(contentsOfFile: logging.logFile.path, encoding: .utf8)
        #expect(text.contains(" ERROR cutest["))
        #expect(text.contains("routine, not mailed"))
    }

    @Test func spooledWhileServerIsDownThenSentExactlyOnceAfterRestart() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsamail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freePort()  // nothing listens here yet
        let config = try config(dir, port: port)
        let spool = MailSpool(config.mail)

        // First run: the relay is down. The alert is spooled and stays there.
        do {
            let logging = try WSALogging(program: "cutest", config: config)
            logger(logging).error("archive disk full")
            // Held on disk before error() returned, spooled when the run's alerts leave.
            #expect(FileManager.default.fileExists(atPath: try #require(logging.digest?.heldFile)))
            logging.flushAlerts()
            #expect(spool.pending().count == 1)
            let mailer = try #require(logging.mailer)
            #expect(waitUntil(timeout: 30) { mailer.statistics.failedPasses >= 1 })
            #expect(logging.shutdown(timeout: 1) == false)
            #expect(spool.pending().count == 1)
            let log = try String(contentsOfFile: logging.logFile.path, encoding: .utf8)
            #expect(log.contains("wsa.mail: alert mail not delivered"))
        }

        // The relay comes up; the next program start sends the spooled alert.
        let server = try SMTPTestServer(port: port, directory: dir)
        defer { server.stop() }
        let logging = try WSALogging(program: "cutest2", config: config)
        #expect(server.waitForMessages(1, timeout: 30))
        #expect(logging.mailer?.flush(timeout: 10) == true)
        #expect(spool.pending().isEmpty)
        // A synchronous flush (as at program start or exit) finds nothing more to send.
        #expect(MailSpool.flush(config: config).delivered == 0)
        logging.shutdown(timeout: 5)
        try #require(server.messages.count == 1)
        #expect(server.messages[0].contains("Subject: [wsa ERROR] cutest@"))
        #expect(server.messages[0].contains("archive disk full"))
    }

    @Test func retriedInProcessOnceServerIsUp() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsamail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freePort()
        let config = try config(dir, port: port)
        let logging = try WSALogging(program: "cutest", config: config)
        defer { logging.shutdown(timeout: 5) }
        let mailer = try #require(logging.mailer)
        logger(logging).critical("database unreachable")
        #expect(waitUntil(timeout: 30) { mailer.statistics.failedPasses >= 1 })
        #expect(mailer.spool.pending().count == 1)

        let server = try SMTPTestServer(port: port, directory: dir)
        defer { server.stop() }
        #expect(mailer.flush(timeout: 20))  // forces a pass despite the 60 s backoff
        #expect(mailer.spool.pending().isEmpty)
        #expect(mailer.flush(timeout: 5))
        try #require(server.messages.count == 1)
        #expect(server.messages[0].contains("Subject: [wsa CRITICAL] cutest@"))
        #expect(mailer.statistics.delivered == 1)
    }

    @Test func loggingAnErrorNeverWaitsForTheRelay() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsamail")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A relay that accepts TCP connections but never answers: a sender waiting for its
        // greeting gives up only after the 300 s SMTP timeout.
        let blackhole = try TCPListener()
        defer { blackhole.close() }
        let config = try config(dir, port: blackhole.port, timeout: 300)
        let logging = try WSALogging(program: "cutest", config: config)
        let mailer = try #require(logging.mailer)

        logger(logging).error("stack of 20250301 failed")
        logging.flushAlerts()
        // error() and the flush have returned: the alert is on disk ...
        #expect(mailer.spool.pending().count == 1)
        // ... and the sender is (or soon will be) stuck in the SMTP greeting, which ends only
        // by the timeout: error() returned without waiting for it.
        #expect(blackhole.waitForPendingConnection(timeout: 30))
        #expect(mailer.isDelivering)
        #expect(mailer.statistics.failedPasses == 0)
        #expect(mailer.statistics.delivered == 0)
        // More errors meanwhile are queued behind it, again without waiting.
        logger(logging).error("second failure")
        logging.flushAlerts()
        #expect(mailer.spool.pending().count == 2)

        // Stopping aborts the stuck exchange promptly; the alerts stay spooled.
        mailer.stop(timeout: 10)
        #expect(!mailer.isDelivering)
        #expect(mailer.spool.pending().count == 2)
        logging.shutdown(timeout: 1)
    }

    @Test func partialAndPermanentRefusals() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsamail")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A relay that refuses "nobody@" permanently (550) and "busy@" for now (451).
        try """
            from aiosmtpd.handlers import Debugging

            class Picky(Debugging):
                async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                    if address.startswith("nobody@"):
                        return "550 5.1.1 no such user"
                    if address.startswith("busy@"):
                        return "451 4.3.0 try again later"
                    envelope.rcpt_tos.append(address)
                    return "250 OK"
            """.write(to: dir.appendingPathComponent("picky.py"), atomically: true, encoding: .utf8)
        let server = try SMTPTestServer(port: try freePort(), directory: dir,
                                        handlerClass: "picky.Picky", pythonPath: dir.path)
        defer { server.stop() }
        let spool = MailSpool(directory: dir.appendingPathComponent("spool").path)
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: server.port, timeout: 10))

        // Accepted for one, deferred for another, refused for the third.
        try spool.enqueue(MailMessage(from: "wsa@test.example.org",
                                      recipients: ["ok@x.org", "busy@x.org", "nobody@x.org"],
                                      subject: "partial", body: "body"))
        var result = spool.deliverPending(using: client)
        #expect(result.delivered == 1)
        #expect(result.problems.contains { $0.contains("nobody@x.org") })
        #expect(server.waitForMessages(1))
        // The mail waits in the spool for the deferred recipient only.
        #expect(spool.pending().count == 1)
        let kept = try String(contentsOfFile: spool.pending()[0], encoding: .utf8)
        #expect(kept.contains("busy@x.org"))
        result = spool.deliverPending(using: client)
        #expect(result.transientError?.code == .smtpTransient)
        #expect(spool.pending().count == 1)

        // Refused for every recipient: set aside in failed/, not retried for ever.
        try FileManager.default.removeItem(atPath: spool.pending()[0])
        try spool.enqueue(MailMessage(from: "wsa@test.example.org", recipients: ["nobody@x.org"],
                                      subject: "refused", body: "body"))
        result = spool.deliverPending(using: client)
        #expect(result.setAside == 1)
        #expect(spool.pending().isEmpty)
        let failed = try FileManager.default.contentsOfDirectory(atPath: spool.directory + "/failed")
        #expect(failed.count == 1)
        #expect(server.messages.count == 1)
    }
}
