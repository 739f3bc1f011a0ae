import Foundation
import Testing
@testable import Curation
import SystemSupport

@Suite struct AlertDigestTests {
    func alert(_ i: Int, at date: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> MailMessage {
        MailMessage(from: "wsa@example.org", recipients: ["admin@example.org"],
                    subject: "[wsa ERROR] cu2@host: w20051012_\(i).fit: HDU 2 does not read as an image",
                    body: "body \(i)", date: date, messageID: "id\(i)@host")
    }

    @Test func fiveHundredErrorsLeaveAsOneMail() {
        let sent = Locked<[MailMessage]>([])
        let digest = AlertDigest(program: "cu2", clock: { Date(timeIntervalSince1970: 1_700_000_000) }) { mail in
            sent.withLock { $0.append(mail) }
        }
        for i in 1...500 { digest.add(alert(i)) }
        #expect(sent.withLock { $0.isEmpty })
        digest.flush()
        let mails = sent.withLock { $0 }
        #expect(mails.count == 1)
        let mail = mails[0]
        #expect(mail.subject.hasPrefix("[wsa ERROR] 500 errors, the first: cu2@host: w20051012_1.fit"), "\(mail.subject)")
        #expect(mail.body.contains("=== 10 of 500") && !mail.body.contains("=== 11 of 500"))
        #expect(mail.body.contains("- [wsa ERROR] cu2@host: w20051012_500.fit"))
        digest.flush()
        #expect(sent.withLock { $0.count } == 1)
    }

    @Test func oneErrorLeavesAsItIs() {
        let sent = Locked<[MailMessage]>([])
        let digest = AlertDigest(program: "cu2", clock: { Date(timeIntervalSince1970: 1_700_000_000) }) { mail in
            sent.withLock { $0.append(mail) }
        }
        digest.add(alert(7))
        digest.flush()
        #expect(sent.withLock { $0 } == [alert(7)])
    }

    @Test func aDaemonsAlertsLeaveOnceTheWindowHasPassed() {
        let sent = Locked<[MailMessage]>([])
        let now = Locked(Date(timeIntervalSince1970: 1_700_000_000))
        let digest = AlertDigest(program: "dbrpcserver", window: 600, clock: { now.withLock { $0 } }) { mail in
            sent.withLock { $0.append(mail) }
        }
        digest.add(alert(1, at: now.withLock { $0 }))
        now.withLock { $0 += 300 }
        digest.add(alert(2, at: now.withLock { $0 }))
        #expect(sent.withLock { $0.isEmpty })
        now.withLock { $0 += 301 }
        digest.add(alert(3, at: now.withLock { $0 }))
        #expect(sent.withLock { $0.count } == 1)
        #expect(sent.withLock { $0[0].subject.contains("3 errors") })
    }

    @Test func aKilledRunsHeldAlertsAreSentByTheNextStart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("held-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sent = Locked<[MailMessage]>([])
        let digest = AlertDigest(program: "cu2", heldDirectory: dir, clock: { Date(timeIntervalSince1970: 1_700_000_000) }) { mail in
            sent.withLock { $0.append(mail) }
        }
        for i in 1...3 { digest.add(alert(i)) }
        let held = try #require(digest.heldFile)
        #expect(FileManager.default.fileExists(atPath: held))
        // As if the run had been killed: its file under a pid that is gone.
        let orphan = "\(dir)/cu2-999999999.jsonl"
        try FileManager.default.moveItem(atPath: held, toPath: orphan)
        #expect(AlertDigest.sendLeftovers(in: dir) { mail in sent.withLock { $0.append(mail) } } == 1)
        let mails = sent.withLock { $0 }
        #expect(mails.count == 1 && mails[0].subject.contains("3 errors"), "\(mails.map(\.subject))")
        #expect(!FileManager.default.fileExists(atPath: orphan))
    }

    @Test func aCriticalAlertLeavesAtOnce() {
        let sent = Locked<[MailMessage]>([])
        let digest = AlertDigest(program: "cu2", clock: { Date(timeIntervalSince1970: 1_700_000_000) }) { mail in
            sent.withLock { $0.append(mail) }
        }
        digest.add(alert(1))
        digest.add(alert(2), urgent: true)
        #expect(sent.withLock { $0.count } == 1)
    }
}
