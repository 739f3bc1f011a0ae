import Foundation
import Testing
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers
#if canImport(Glibc)
import Glibc
#endif

/// AppDriver against real programs: exit statuses, arguments, environment, pipes.
@Suite struct AppDriverRunTests {
    let driver = AppDriver()

    @Test func trueAndFalseExitStatuses() async throws {
        let ok = try await driver.run("/bin/true")
        #expect(ok.termination == .exited(0))
        #expect(ok.succeeded)
        #expect(try ok.checkSuccess() == ok)

        let bad = try await driver.run("/bin/false")
        #expect(bad.exitStatus == 1)
        #expect(bad.signal == nil)
        #expect(!bad.succeeded)
        let error = try #require(bad.failure)
        #expect(error.code == .failed)
        #expect(error.description == "/bin/false failed: exit code 1")
        #expect(throws: WrapperError.self) { try bad.checkSuccess() }
    }

    @Test func exitStatusAndStderrLineInTheMessage() async throws {
        let result = try await driver.run("/bin/sh", arguments: [
            "-c", "echo progress; printf 'first\\n*Error*: cannot open x.fits\\n\\n  \\n' >&2; exit 3",
        ])
        #expect(result.exitStatus == 3)
        #expect(result.stdoutText == "progress\n")
        #expect(result.failure?.description == "/bin/sh failed: exit code 3: *Error*: cannot open x.fits")
    }

    @Test func argumentsArriveIntact() async throws {
        let words = ["a b", "it's", "q\"uote", "ünïcødé ✓ 星", "", "$HOME", "*", "back\\slash",
                     "new\nline", "-n"]
        // printf from PATH, so this also exercises the PATH search.
        let result = try await driver.run("printf", arguments: ["[%s]"] + words).checkSuccess()
        #expect(result.stdoutText == words.map { "[\($0)]" }.joined())
        #expect(result.executable.hasPrefix("/"))
        #expect(result.commandLine.contains(#"'it'\''s'"#))
        #expect(result.commandLine.contains("'ünïcødé ✓ 星'"))
        #expect(result.commandLine.contains(" '' "))
    }

    @Test func environmentIsAddedToAndOverridden() async throws {
        let result = try await driver.run("/bin/sh", arguments: [
            "-c", #"printf '%s|%s|%s' "$WSA_APPDRIVER_TEST" "$HOME" "$(command -v cat)""#,
        ], environment: ["WSA_APPDRIVER_TEST": "x y ✓", "HOME": "/nowhere"]).checkSuccess()
        let parts = result.stdoutText.split(separator: "|", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(parts.first == "x y ✓")
        #expect(parts.dropFirst().first == "/nowhere")
        #expect(parts.last?.hasSuffix("/cat") == true, "PATH is inherited")
    }

    @Test func workingDirectoryAndRelativeRedirections() async throws {
        let scratch = try Scratch()
        let real = URL(fileURLWithPath: scratch.path).resolvingSymlinksInPath().path
        let result = try await driver.run("/bin/sh", arguments: ["-c", "pwd -P; echo oops >&2"],
                                          workingDirectory: scratch.path,
                                          stdoutFile: "out.txt", stderrFile: "err.txt")
            .checkSuccess()
        #expect(result.stdout.isEmpty)
        #expect(result.stdoutFile == scratch.file("out.txt"))
        #expect(try String(contentsOfFile: scratch.file("out.txt"), encoding: .utf8) == real + "\n")
        #expect(try String(contentsOfFile: scratch.file("err.txt"), encoding: .utf8) == "oops\n")
        #expect(result.commandLine.hasSuffix("> \(scratch.file("out.txt")) 2> \(scratch.file("err.txt"))"))
    }

    @Test func stdoutAndStderrToOneFile() async throws {
        let scratch = try Scratch()
        let both = scratch.file("both.log")
        let result = try await driver.run("/bin/sh", arguments: ["-c", "echo one; echo two >&2; echo three; exit 4"],
                                          stdoutFile: both, stderrFile: both)
        #expect(try String(contentsOfFile: both, encoding: .utf8) == "one\ntwo\nthree\n")
        #expect(result.commandLine.hasSuffix(" 2>&1"))
        #expect(result.failure?.description == "/bin/sh failed: exit code 4: three",
                "the message falls back to the file's last line")
    }

    @Test func standardInputFromData() async throws {
        var bytes = Data(count: 3 * 1024 * 1024 + 17)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        let result = try await driver.run("/bin/cat", input: .data(bytes)).checkSuccess()
        #expect(result.stdout == bytes)
        #expect(result.stdoutByteCount == bytes.count)
    }

    @Test func standardInputFromFile() async throws {
        let scratch = try Scratch()
        try "alpha\nbeta\n".write(toFile: scratch.file("in.txt"), atomically: true, encoding: .utf8)
        let result = try await driver.run("/usr/bin/wc", arguments: ["-l"], workingDirectory: scratch.path,
                                          input: .file("in.txt")).checkSuccess()
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        #expect(result.commandLine.hasSuffix("< \(scratch.file("in.txt"))"))
    }

    @Test func programThatIgnoresItsInputIsNotAnError() async throws {
        let result = try await driver.run("/bin/true", input: .data(Data(count: 8 * 1024 * 1024)))
        #expect(result.succeeded, "EPIPE on stdin must neither fail the run nor kill the caller")
    }

    @Test func largeStdoutAndStderrWithoutDeadlock() async throws {
        // stderr first: a driver that read stdout to its end before stderr would deadlock here.
        let result = try await driver.run("/bin/sh", arguments: [
            "-c", "head -c 20000000 /dev/zero >&2; head -c 20000000 /dev/zero; echo END; echo LAST >&2",
        ], timeout: .seconds(120)).checkSuccess()
        #expect(result.stdoutByteCount == 20_000_004)
        #expect(result.stderrByteCount == 20_000_005)
        #expect(result.stdout.count == driver.outputLimit)
        #expect(result.stderr.count == driver.outputLimit)
        #expect(result.stdoutTruncated && result.stderrTruncated)
        #expect(result.stdout.suffix(4) == Data("END\n".utf8))
        #expect(result.stderr.suffix(5) == Data("LAST\n".utf8))
    }

    @Test func outputLimitKeepsTheTail() async throws {
        var small = driver
        small.outputLimit = 10
        let result = try await small.run("/bin/sh", arguments: ["-c", "printf 0123456789abcdef"])
        #expect(result.stdoutText == "6789abcdef")
        #expect(result.stdoutByteCount == 16)
    }

    @Test func signalIsReported() async throws {
        let result = try await driver.run("/bin/sh", arguments: ["-c", "echo dying >&2; kill -SEGV $$"])
        #expect(result.signal == SIGSEGV)
        #expect(result.exitStatus == nil)
        let error = try #require(result.failure)
        #expect(error.code == .signalled)
        let core = result.coreDumped ? " (core dumped)" : ""
        #expect(error.description == "/bin/sh killed by SIGSEGV\(core): dying")
    }

    @Test func concurrentRunsKeepTheirOwnOutput() async throws {
        let driver = self.driver
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<8 {
                group.addTask {
                    let result = try await driver.run("/bin/sh", arguments: ["-c", "sleep 0.1; echo $0", "run\(i)"])
                        .checkSuccess()
                    return (i, result.stdoutText)
                }
            }
            for try await (i, text) in group {
                #expect(text == "run\(i)\n")
            }
        }
    }

    @Test func synchronousVariant() throws {
        let result = try driver.runSynchronously("/bin/sh", arguments: ["-c", "echo sync; exit 2"])
        #expect(result.stdoutText == "sync\n")
        #expect(result.exitStatus == 2)
    }
}
