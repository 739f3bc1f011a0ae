import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of mails waiting for the SMTP relay, shared by every program.
///
/// Each mail is one file, written atomically (temporary name, fsync, rename, fsync of the
/// directory) before any delivery is tried, and deleted only after the relay accepted it, so an
/// alert survives a dead relay and a restart of the program. A file being delivered is held
/// under an exclusive `flock`, so two processes flushing the same spool never send it twice.
/// Mails the relay refuses permanently move to `failed/`, unreadable files to `bad/`.
public struct MailSpool: Sendable {
    /// The spool directory.
    public let directory: String

    /// What a delivery pass did.
    public struct FlushResult: Sendable, Equatable {
        /// Mails the relay accepted (and that left the spool).
        public var delivered = 0
        /// Mails moved to `failed/` (refused permanently) or `bad/` (unreadable).
        public var setAside = 0
        /// Mails still waiting in the spool after the pass.
        public var remaining = 0
        /// The error that ended the pass early (relay unreachable, 4xx), if any.
        public var transientError: CurationError? = nil
        /// Recipients refused permanently, with the reason.
        public var problems: [String] = []
    }

    /// One spool file's content.
    struct Entry: Codable {
        var format = 1
        /// Who still has to receive it (a subset of `message.recipients` after a partial
        /// delivery).
        var envelopeRecipients: [String]
        var message: MailMessage
    }

    public init(directory: String) { self.directory = directory }

    /// The spool of `[mail] spool`.
    public init(_ mail: WSAConfig.Mail) { self.init(directory: mail.spool) }

    /// Writes `message` to the spool durably; returns the file's path. Does no network I/O.
    @discardableResult
    public func enqueue(_ message: MailMessage) throws -> String {
        try write(Entry(envelopeRecipients: message.recipients, message: message), date: Date())
    }

    private func write(_ entry: Entry, date: Date) throws -> String {
        try POSIXFile.makeDirectory(directory, code: .mailSpool)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        let data: Data
        do { data = try encoder.encode(entry) } catch {
            throw CurationError(.mailSpool, "cannot encode mail for the spool", detail: "\(error)")
        }
        let unique = UUID().uuidString.lowercased()
        let final = "\(directory)/\(UTCTime.compact(date))-\(ProcessFacts.pid)-\(unique.prefix(8)).mail"
        do {
            try AtomicFile.write(Array(data), to: final, permissions: 0o640)
        } catch {
            throw CurationError(.mailSpool, "cannot spool the mail: \(error)")
        }
        return final
    }

    /// The spooled mails waiting for delivery, oldest first.
    public func pending() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".mail") && !$0.hasPrefix(".") }.sorted()
            .map { "\(directory)/\($0)" }
    }

    /// Tries to deliver every pending mail, oldest first, stopping at the first transient
    /// failure (the relay is down: the rest would fail too). Files another process is
    /// delivering are skipped.
    public func deliverPending(using client: SMTPClient, abort: SMTPAbortHandle? = nil) -> FlushResult {
        var result = FlushResult()
        removeStaleTemporaries()
        for path in pending() {
            if abort?.isAborted == true { break }
            do {
                if try deliver(path, client: client, abort: abort, result: &result) == false { continue }
            } catch let error as CurationError {
                result.transientError = error
                break
            } catch {
                result.transientError = CurationError(.mailSpool, "\(error)")
                break
            }
        }
        result.remaining = pending().count
        return result
    }

    /// Delivers one spool file under an exclusive lock. Returns false if it was skipped
    /// (locked by another process or already gone). Throws only transient errors.
    private func deliver(_ path: String, client: SMTPClient, abort: SMTPAbortHandle?,
                         result: inout FlushResult) throws -> Bool
    {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }  // delivered by another process meanwhile
        defer { _ = Sys.close(fd) }
        guard POSIXFile.lock(fd, LOCK_EX | LOCK_NB) else { return false }
        // Another process may have delivered and removed it between our open and our lock.
        guard let mine = POSIXFile.identity(fd: fd), let current = POSIXFile.identity(path: path),
              mine == current else { return false }

        guard let entry = readEntry(fd) else {
            setAside(path, into: "bad")
            result.setAside += 1
            result.problems.append("unreadable spool file moved to \(directory)/bad")
            return true
        }
        do {
            let report = try client.deliver(from: entry.message.from,
                                            recipients: entry.envelopeRecipients,
                                            data: entry.message.rendered(), abort: abort)
            if !report.deferred.isEmpty {
                // Keep the mail for the recipients that asked us to try later.
                var rest = entry
                rest.envelopeRecipients = report.deferred
                _ = try write(rest, date: Date())
            }
            if !report.rejected.isEmpty {
                result.problems.append("SMTP server refused \(report.rejected.joined(separator: ", "))")
            }
            unlink(path)
            POSIXFile.syncDirectory(directory)
            result.delivered += 1
            return true
        } catch let error as CurationError where !error.isTransient && error.code != .mailSpool {
            setAside(path, into: "failed")
            result.setAside += 1
            result.problems.append("\(error.message); mail moved to \(directory)/failed")
            return true
        }
    }

    private func readEntry(_ fd: Int32) -> Entry? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            guard let n = try? syscall("read", { read(fd, &buffer, buffer.count) }), n > 0 else { break }
            data.append(contentsOf: buffer[0..<n])
            if data.count > 16 * 1024 * 1024 { return nil }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let entry = try? decoder.decode(Entry.self, from: data), entry.format == 1,
              !entry.envelopeRecipients.isEmpty else { return nil }
        return entry
    }

    private func setAside(_ path: String, into folder: String) {
        let target = "\(directory)/\(folder)"
        try? POSIXFile.makeDirectory(target, code: .mailSpool)
        let name = URL(fileURLWithPath: path).lastPathComponent
        if rename(path, "\(target)/\(name)") != 0 { unlink(path) }
    }

    /// Removes temporary files left by a crash in the middle of ``enqueue(_:)``.
    private func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".tmp-") || AtomicFile.isTemporaryName(name) {
            let path = "\(directory)/\(name)"
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
               let modified = attributes[.modificationDate] as? Date,
               modified.timeIntervalSinceNow < -3600
            {
                unlink(path)
            }
        }
    }

    /// Sends what is pending in the spool of `config`, synchronously (call at program start
    /// or from a cron job). Stops at the first transient failure; bounded by the SMTP timeout.
    @discardableResult
    public static func flush(config: WSAConfig, abort: SMTPAbortHandle? = nil) -> FlushResult {
        MailSpool(config.mail).deliverPending(using: SMTPClient(settings: SMTPSettings(config.mail)),
                                              abort: abort)
    }
}
