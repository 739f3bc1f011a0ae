import Foundation
import Testing
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers
#if canImport(Glibc)
import Glibc
#endif

/// Timeouts, cancellation and signal masks: the driver must be able to stop what it started.
@Suite struct AppDriverStopTests {
    @Test func timeoutKillsTheProgramAndItsChildren() async throws {
        let scratch = try Scratch()
        let driver = AppDriver()
        let started = ContinuousClock.now
        let result = try await driver.run("/bin/sh", arguments: ["-c", "sleep 30 & echo $! > bg.pid; sleep 30"],
                                          workingDirectory: scratch.path, timeout: .seconds(3))
        let elapsed = ContinuousClock.now - started
        #expect(result.timedOut)
        #expect(result.signal == SIGTERM)
        // The driver's own clock: resuming this task can wait while other suites hold the
        // cooperative pool's threads, so the wall-clock bound is only a backstop.
        #expect(result.duration < .seconds(20))
        #expect(elapsed < .seconds(120))
        let error = try #require(result.failure)
        #expect(error.code == .timedOut)
        #expect(error.description == "/bin/sh timed out after 3 s")

        let background = try #require(await ProcessProbe.readPID(scratch.file("bg.pid")))
        #expect(await ProcessProbe.waitUntilGone(background), "the background sleep survived")
    }

    @Test func timeoutEscalatesToSIGKILL() async throws {
        var driver = AppDriver()
        driver.terminationGrace = .milliseconds(300)
        let result = try await driver.run("/bin/sh", arguments: ["-c", "trap '' TERM; sleep 30"],
                                          timeout: .milliseconds(200))
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
        #expect(result.duration < .seconds(20))
    }

    @Test func cancellingTheTaskKillsTheChild() async throws {
        let scratch = try Scratch()
        let driver = AppDriver()
        let directory = scratch.path
        let task = Task {
            try await driver.run("/bin/sh", arguments: ["-c", "echo $$ > child.pid; exec sleep 30"],
                                 workingDirectory: directory)
        }
        let child = try #require(await ProcessProbe.readPID(scratch.file("child.pid")))
        let started = ContinuousClock.now
        task.cancel()
        do {
            let result = try await task.value
            Issue.record("run returned \(result.termination) instead of throwing")
        } catch let error as WrapperError {
            #expect(error.code == .cancelled)
            #expect(error.result?.signal == SIGTERM)
        }
        #expect(ContinuousClock.now - started < .seconds(120))
        #expect(ProcessProbe.isGone(child))
    }

    @Test func cancelledBeforeStartRunsNothing() async throws {
        let scratch = try Scratch()
        let driver = AppDriver()
        let marker = scratch.file("ran")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await driver.run("/bin/sh", arguments: ["-c", "touch \(marker)"])
        }
        await #expect(throws: WrapperError.self) { try await task.value }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func childStartsWithACleanSignalMask() async throws {
        let driver = AppDriver()
        let outcome = await ProcessProbe.onThread(blocking: [SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
            // exec: the shell itself waits with signals blocked, so read its replacement's mask.
            Result { try driver.runSynchronously("/bin/sh", arguments: ["-c", "exec grep -E '^Sig(Blk|Ign)' /proc/self/status"]) }
        }
        let result = try outcome.get().checkSuccess()
        let masks = Dictionary(uniqueKeysWithValues: result.stdoutText.split(separator: "\n").map {
            let parts = $0.split(separator: "\t")
            return (String(parts[0]), UInt64(parts[1], radix: 16) ?? .max)
        })
        #expect(masks["SigBlk:"] == 0)
        // Signals 1–31 at their defaults (glibc keeps its internal real-time ones ignored).
        #expect(masks["SigIgn:"].map { $0 & 0x7FFF_FFFF } == 0)
    }

    @Test func sigtermReachesAChildSpawnedFromAWorkerThread() async throws {
        var driver = AppDriver()
        // A long grace: if SIGTERM were blocked in the child, SIGKILL would end it, late.
        driver.terminationGrace = .seconds(30)
        let outcome = await ProcessProbe.onThread(blocking: [SIGTERM]) { [driver] in
            Result { try driver.runSynchronously("/bin/sleep", arguments: ["30"], timeout: .milliseconds(300)) }
        }
        let result = try outcome.get()
        #expect(result.timedOut)
        #expect(result.signal == SIGTERM)
        #expect(result.duration < .seconds(20))
    }

    @Test func leftoverProcessHoldingTheOutputIsKilled() async throws {
        let scratch = try Scratch()
        var driver = AppDriver()
        driver.exitLinger = .milliseconds(200)
        let result = try await driver.run("/bin/sh", arguments: ["-c", "sleep 30 & echo $! > bg.pid; echo done"],
                                          workingDirectory: scratch.path, timeout: .seconds(60))
        #expect(result.succeeded)
        #expect(result.stdoutText == "done\n")
        #expect(result.duration < .seconds(20))
        let background = try #require(await ProcessProbe.readPID(scratch.file("bg.pid")))
        #expect(await ProcessProbe.waitUntilGone(background))
    }
}
