import Foundation
import Testing
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// The pieces that make AppDriver's log lines and messages, without running anything.
@Suite struct AppDriverMessageTests {
    @Test func lastMeaningfulLineSkipsProgressDecoration() {
        // The way SWarp and source-extractor draw progress: ANSI sequences, `>` lines, CRs.
        let swarp = "\u{1B}[1M> Examining input data ...\n\u{1B}[1A\u{1B}[1M> \n> *Error*: cannot open stack.fits\n> \n\u{1B}[1A"
        #expect(StderrSummary.lastMeaningfulLine(of: Data(swarp.utf8)) == "*Error*: cannot open stack.fits")
        let progress = "Reading line 10\rReading line 20\rReading line 30\r"
        #expect(StderrSummary.lastMeaningfulLine(of: Data(progress.utf8)) == "Reading line 30")
        #expect(StderrSummary.lastMeaningfulLine(of: Data("\n \n---\n".utf8)) == nil)
        #expect(StderrSummary.lastMeaningfulLine(of: Data()) == nil)
        let long = String(repeating: "x", count: 500)
        let shortened = StderrSummary.lastMeaningfulLine(of: Data(long.utf8))
        #expect(shortened?.count == StderrSummary.maxLineLength)
        #expect(shortened?.hasSuffix("…") == true)
    }

    @Test func secondsForMessages() {
        #expect(StderrSummary.seconds(.seconds(600)) == "600 s")
        #expect(StderrSummary.seconds(.milliseconds(500)) == "0.5 s")
        #expect(StderrSummary.seconds(.milliseconds(12_340)) == "12.3 s")
    }

    @Test func shellQuoting() {
        #expect(ShellQuoting.quote("plain-word_1.fits") == "plain-word_1.fits")
        #expect(ShellQuoting.quote("a b") == "'a b'")
        #expect(ShellQuoting.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuoting.quote("") == "''")
        #expect(ShellQuoting.quote("$HOME") == "'$HOME'")
        #expect(ShellQuoting.quote("ünï") == "'ünï'")
        #expect(ShellQuoting.join(["/usr/bin/SWarp", "@list", "-c", "a b.swarp"])
            == "/usr/bin/SWarp @list -c 'a b.swarp'")
    }

    @Test func outputTailKeepsTheLastBytes() {
        var tail = OutputTail(limit: 5)
        for chunk in ["ab", "cd", "ef", "gh", "ijklmnop", "q"] {
            Data(chunk.utf8).withUnsafeBytes { tail.append($0) }
        }
        #expect(tail.total == 17)
        #expect(String(decoding: tail.data, as: UTF8.self) == "mnopq")
        var none = OutputTail(limit: 0)
        Data("abc".utf8).withUnsafeBytes { none.append($0) }
        #expect(none.total == 3)
        #expect(none.data.isEmpty)
    }

    @Test func debianPackages() {
        #expect(DebianPackages.package(for: "SWarp") == "swarp")
        #expect(DebianPackages.package(for: "/usr/bin/SWarp") == "swarp")
        #expect(DebianPackages.package(for: "SWARP") == "swarp")
        #expect(DebianPackages.package(for: "source-extractor") == "source-extractor")
        #expect(DebianPackages.package(for: "funpack") == "libcfitsio-bin")
        #expect(DebianPackages.package(for: "psql") == "postgresql-client-15")
        #expect(DebianPackages.package(for: "cjpeg") == "libjpeg-turbo-progs")
        #expect(DebianPackages.package(for: "no-such-program") == nil)
    }

    @Test func errorDescriptions() {
        let error = WrapperError(.failed, tool: "SWarp", "SWarp failed: exit code 1",
                                   detail: "/usr/bin/SWarp @list")
        #expect(error.description == "SWarp failed: exit code 1")
        #expect(error.debugDescription == "[3104 failed] SWarp failed: exit code 1 (/usr/bin/SWarp @list)")
        #expect(WrapperError.Code.toolMissing.description == "toolMissing")
    }
}
