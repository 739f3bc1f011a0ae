import Foundation
import Logging
import Testing
import TestSupport
@testable import Curation

@Suite struct LogRotationTests {
    /// Lines of a log file, decompressing `.gz` with gzip itself.
    func lines(_ path: String) throws -> [String] {
        let text: String
        if path.hasSuffix(".gz") {
            let result = try runProcess("/bin/gzip", ["-dc", path])
            #expect(result.status == 0, "gzip -dc \(path): \(result.stderr)")
            text = result.stdout
        } else {
            text = try String(contentsOfFile: path, encoding: .utf8)
        }
        return text.split(separator: "\n").map(String.init)
    }

    /// The message part of a log line (`… label: message`).
    func message(_ line: String) -> String {
        String(line[line.range(of: ": ")!.upperBound...])
    }

    func logger(_ file: RotatingLogFile, label: String = "wsa.test") -> Logger {
        Logger(label: label) { label in
            FileLogHandler(file: file, program: "cutest", label: label, level: .debug)
        }
    }

    @Test func lineFormat() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock("2025-03-01T12:34:56Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        var log = logger(file, label: "wsa.cu4")
        log[metadataKey: "night"] = "20250301"
        log.error("bad file\nsecond line", metadata: ["file": "w_20250301_00042.fit", "why": "no WCS"])
        let all = try lines(file.path)
        #expect(all.count == 1)
        let line = try #require(all.first)
        #expect(line.hasPrefix("2025-03-01T12:34:56.000Z ERROR cutest["))
        #expect(line.contains("] wsa.cu4: bad file\\nsecond line"))
        #expect(line.hasSuffix(" file=w_20250301_00042.fit night=20250301 why=\"no WCS\""))
    }

    @Test func archivesOlderThanKeepDaysArePrunedAtRotation() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        for day in ["2025-01-10", "2025-02-20", "2025-02-27", "2025-02-27.1"] {
            try Data("old\n".utf8).write(to: dir.appendingPathComponent("cutest.log.\(day).gz"))
        }
        try Data("other\n".utf8).write(to: dir.appendingPathComponent("other.log.2025-01-10.gz"))
        let clock = TestClock("2025-03-01T12:00:00Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function, keepDays: 7)
        logger(file).info("today")
        clock.set("2025-03-02T00:00:01Z")
        logger(file).info("tomorrow")
        #expect(file.waitForArchiving(timeout: 30))
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(!names.contains("cutest.log.2025-01-10.gz") && !names.contains("cutest.log.2025-02-20.gz"))
        #expect(names.contains("cutest.log.2025-02-27.gz") && names.contains("cutest.log.2025-02-27.1.gz"))
        #expect(names.contains("cutest.log.2025-03-01.gz") && names.contains("other.log.2025-01-10.gz"))
    }

    @Test func rotatesAtMidnightIntoCompressedArchive() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock("2025-03-01T23:59:00Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        let log = logger(file)
        for i in 0..<50 { log.info("before-\(i)") }
        clock.set("2025-03-01T23:59:59Z")
        log.info("before-last")
        clock.set("2025-03-02T00:00:00Z")
        log.info("after-first")
        for i in 0..<50 { log.info("after-\(i)") }
        #expect(file.waitForArchiving(timeout: 30))

        let archive = dir.appendingPathComponent("cutest.log.2025-03-01.gz").path
        #expect(FileManager.default.fileExists(atPath: archive))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("cutest.log.2025-03-01").path))
        let old = try lines(archive)
        let new = try lines(file.path)
        #expect(old.map(message) == (0..<50).map { "before-\($0)" } + ["before-last"])
        #expect(new.map(message) == ["after-first"] + (0..<50).map { "after-\($0)" })
        #expect(old.allSatisfy { $0.hasPrefix("2025-03-01T") })
        #expect(new.allSatisfy { $0.hasPrefix("2025-03-02T") })
    }

    @Test func concurrentWritersAcrossMidnightLoseNothing() async throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every reading advances the clock one second: 1600 messages span 23:50 → 00:16:40.
        let clock = TestClock("2025-03-01T23:50:00Z", step: 1)
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        let log = logger(file)
        let tasks = 8, perTask = 200
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask { log.info("m-\(t)-\(i)") }
                }
            }
        }
        #expect(file.waitForArchiving(timeout: 30))
        let old = try lines(dir.appendingPathComponent("cutest.log.2025-03-01.gz").path)
        let new = try lines(file.path)
        #expect(old.allSatisfy { $0.hasPrefix("2025-03-01T23:") })
        #expect(new.allSatisfy { $0.hasPrefix("2025-03-02T00:") })
        let all = (old + new).map(message)
        let expected = Set((0..<tasks).flatMap { t in (0..<perTask).map { "m-\(t)-\($0)" } })
        #expect(all.count == tasks * perTask)  // nothing duplicated
        #expect(Set(all) == expected)  // nothing lost
        // The clock was read once per message (plus once at open), inside the file's lock:
        // 599 messages fall before midnight.
        #expect(old.count == 599)
        // Timestamps are in order within and across the files.
        let stamps = (old + new).map { String($0.prefix(24)) }
        #expect(stamps == stamps.sorted())
    }

    @Test func twoWritersOfOneLogRotateItOnce() throws {
        // Two opens of the same log (two processes of one program: flock excludes separate
        // open file descriptions even within one process).
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clockA = TestClock("2025-03-01T23:59:58Z")
        let clockB = TestClock("2025-03-01T23:59:58Z")
        let a = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clockA.function)
        let b = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clockB.function)
        logger(a).info("a-day1")
        logger(b).info("b-day1")
        clockA.set("2025-03-02T00:00:01Z")
        logger(a).info("a-day2")  // A rotates
        logger(b).info("b-day1-late")  // B has not seen midnight yet: follows the rotation
        clockB.set("2025-03-02T00:00:02Z")
        logger(b).info("b-day2")  // B sees midnight: the file is already today's
        #expect(a.waitForArchiving(timeout: 30))
        #expect(b.waitForArchiving(timeout: 30))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }
        #expect(Set(names) == ["cutest.log", "cutest.log.2025-03-01.gz"])
        #expect(try lines(dir.appendingPathComponent("cutest.log.2025-03-01.gz").path).map(message)
            == ["a-day1", "b-day1"])
        #expect(try lines(a.path).map(message) == ["a-day2", "b-day1-late", "b-day2"])
    }

    @Test func staleFileIsRotatedWhenTheProgramStartsOnALaterDay() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let clock = TestClock("2025-03-01T18:00:00Z")
            let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
            logger(file).notice("yesterday's run")
        }
        // The next run starts two days later, logs nothing yet.
        let clock = TestClock("2025-03-03T08:00:00Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        #expect(file.waitForArchiving(timeout: 30))
        let archive = dir.appendingPathComponent("cutest.log.2025-03-01.gz").path
        #expect(try lines(archive).map(message) == ["yesterday's run"])
        #expect(try lines(file.path).isEmpty)
        logger(file).notice("today's run")
        #expect(try lines(file.path).map(message) == ["today's run"])

        // A third run the same day keeps appending to today's file.
        let again = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        logger(again).notice("later today")
        #expect(try lines(file.path).map(message) == ["today's run", "later today"])
    }

    @Test func existingArchiveOfTheSameDayIsNotOverwritten() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock("2025-03-01T10:00:00Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        logger(file).info("first")
        clock.set("2025-03-02T10:00:00Z")
        logger(file).info("second")
        #expect(file.waitForArchiving(timeout: 30))
        // Someone restores an older file for 03-01 as the current log (or two processes
        // disagree): it must not overwrite the existing archive.
        try "2025-03-01T11:00:00.000Z INFO cutest[1] wsa.test: restored\n"
            .write(toFile: file.path, atomically: false, encoding: .utf8)
        clock.set("2025-03-03T10:00:00Z")
        logger(file).info("third")
        #expect(file.waitForArchiving(timeout: 30))
        #expect(try lines(dir.appendingPathComponent("cutest.log.2025-03-01.gz").path).map(message) == ["first"])
        #expect(try lines(dir.appendingPathComponent("cutest.log.2025-03-01.1.gz").path).map(message) == ["restored"])
        #expect(try lines(file.path).map(message) == ["third"])
    }

    @Test func leftoverUncompressedArchiveIsCompressedAtStart() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let leftover = dir.appendingPathComponent("cutest.log.2025-02-27").path
        try "2025-02-27T10:00:00.000Z INFO cutest[1] wsa.test: interrupted\n"
            .write(toFile: leftover, atomically: false, encoding: .utf8)
        let clock = TestClock("2025-03-01T10:00:00Z")
        let file = try RotatingLogFile(directory: dir.path, fileName: "cutest.log", clock: clock.function)
        #expect(file.waitForArchiving(timeout: 30))
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try lines(leftover + ".gz").map(message) == ["interrupted"])
    }

    @Test func unwritableLogDirectoryIsOneClearError() throws {
        let dir = try TestEnvironment.temporaryDirectory("wsalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("not-a-dir")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let error = try #require(throws: CurationError.self) {
            try RotatingLogFile(directory: blocker.path, fileName: "cutest.log")
        }
        #expect(error.code == .logFile)
        #expect(error.description.contains(blocker.path))
    }
}
