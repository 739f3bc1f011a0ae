import Foundation
import Logging
import Testing
@testable import Curation

@Suite struct MailFormatTests {
    @Test func quotedPrintable() {
        #expect(MailEncoding.quotedPrintable("plain text") == "plain text")
        #expect(MailEncoding.quotedPrintable("a=b") == "a=3Db")
        #expect(MailEncoding.quotedPrintable("trailing space \nx") == "trailing space=20\r\nx")
        #expect(MailEncoding.quotedPrintable("Ångström") == "=C3=85ngstr=C3=B6m")
        let long = String(repeating: "x", count: 200)
        let encoded = MailEncoding.quotedPrintable(long)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") })
        #expect(lines.map { $0.hasSuffix("=") ? String($0.dropLast()) : $0 }.joined() == long)
    }

    @Test func dotStuffing() {
        #expect(MailEncoding.dotStuffed(".\n.hidden\nplain\n..two") == "..\r\n..hidden\r\nplain\r\n...two\r\n")
        #expect(MailEncoding.dotStuffed("a\r\nb\r\n") == "a\r\nb\r\n")
        #expect(MailEncoding.dotStuffed("bare\rcr") == "bare\r\ncr\r\n")
    }

    @Test func headers() {
        #expect(MailEncoding.header("Subject", "plain") == "Subject: plain")
        #expect(MailEncoding.header("Subject", "inject\r\nBcc: x@y") == "Subject: inject  Bcc: x@y")
        let encoded = MailEncoding.header("Subject", "Ångström zero point")
        #expect(encoded.hasPrefix("Subject: =?UTF-8?B?"))
        let long = MailEncoding.header("To", (1...12).map { "admin\($0)@roe.example.org" }.joined(separator: ", "))
        #expect(long.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
        #expect(long.components(separatedBy: "\r\n").dropFirst().allSatisfy { $0.hasPrefix(" ") })
    }

    @Test func addresses() {
        #expect(MailAddress.problem("wsa-admin@roe.ac.uk") == nil)
        #expect(MailAddress.problem("root@localhost") == nil)
        #expect(MailAddress.problem("a+b@[127.0.0.1]") == nil)
        #expect(MailAddress.problem("no-at-sign") != nil)
        #expect(MailAddress.problem("a@b@c") != nil)
        #expect(MailAddress.problem("Admin <a@b.org>") != nil)
        #expect(MailAddress.problem("a@b.org\r\nRCPT TO:<x@y>") != nil)
        #expect(MailAddress.problem("a@-") == nil)
        #expect(MailAddress.problem("a@b..org") != nil)
        #expect(MailAddress.heloProblem("curation.roe.ac.uk") == nil)
        #expect(MailAddress.heloProblem("bad host") != nil)
    }

    @Test func replyParser() throws {
        var parser = SMTPReplyParser()
        parser.feed(Array("250-mail.example.org\r\n250-8BIT".utf8))
        #expect(try parser.next() == nil)
        parser.feed(Array("MIME\r\n250 HELP\r\n220 ready\n".utf8))
        #expect(try parser.next() == SMTPReply(code: 250, lines: ["mail.example.org", "8BITMIME", "HELP"]))
        #expect(try parser.next() == SMTPReply(code: 220, lines: ["ready"]))
        #expect(try parser.next() == nil)
        parser.feed(Array("hello\r\n".utf8))
        #expect(throws: SMTPReplyParser.ParseError.self) { try parser.next() }
        var mixed = SMTPReplyParser()
        mixed.feed(Array("250-a\r\n251 b\r\n".utf8))
        #expect(throws: SMTPReplyParser.ParseError.self) { try mixed.next() }
    }

    @Test func alertMessage() {
        let event = LogEvent(level: .error, message: "\(String(repeating: "é", count: 100))\nsecond line",
                             metadata: nil, source: "CU04", file: "CU04/main.swift", function: "run()", line: 42)
        let mail = MailLogHandler.alert(event: event, program: "cu4", label: "wsa.cu4", from: "wsa@vm",
                                        recipients: ["a@b.org"], date: Date(timeIntervalSince1970: 0),
                                        metadata: ["night": "20250301"])
        #expect(mail.subject == "[wsa ERROR] cu4@\(ProcessFacts.hostName): \(String(repeating: "é", count: 80))")
        #expect(mail.body.contains("Source:   CU04/main.swift:42 run()"))
        #expect(mail.body.contains("second line"))
        #expect(mail.body.contains("night = 20250301"))
        let rendered = mail.rendered()
        #expect(rendered.contains("\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(rendered.contains("\r\nMessage-ID: <"))
        #expect(rendered.utf8.allSatisfy { $0 < 128 })  // 7-bit on the wire
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }
}
