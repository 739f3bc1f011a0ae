public import Foundation

/// How one run of an external program ended, with what it wrote.
///
/// A non-zero exit, a signal or a timeout is a result, not an error: call ``checkSuccess()``
/// to turn it into an ``WrapperError`` whose one-line message names the tool, what happened
/// and the last meaningful line of its stderr.
public struct AppResult: Sendable, Equatable {
    /// How the process ended.
    public enum Termination: Sendable, Equatable {
        /// It exited with this status (0–255).
        case exited(Int32)
        /// A signal ended it; `coreDumped` is what the kernel reported.
        case signalled(Int32, coreDumped: Bool)
    }

    /// The tool as the caller named it (`SWarp`).
    public var tool: String
    /// The program that ran (an absolute path).
    public var executable: String
    /// The arguments, without the program name.
    public var arguments: [String]
    /// The command line as run, shell-quoted, with its redirections (for logs).
    public var commandLine: String
    /// How the process ended.
    public var termination: Termination
    /// True when the driver killed the program because it ran past ``timeLimit``.
    public var timedOut: Bool
    /// True when the driver killed the program because the calling task was cancelled.
    public var cancelled: Bool
    /// The time limit the program ran under, if any.
    public var timeLimit: Duration?
    /// Wall time from start to exit.
    public var duration: Duration
    /// The last ``AppDriver/outputLimit`` bytes of standard output (empty when it went to
    /// ``stdoutFile``).
    public var stdout: Data
    /// The last ``AppDriver/outputLimit`` bytes of standard error (empty when it went to
    /// ``stderrFile``).
    public var stderr: Data
    /// How many bytes the program wrote to standard output through the driver's pipe.
    public var stdoutByteCount: Int
    /// How many bytes the program wrote to standard error through the driver's pipe.
    public var stderrByteCount: Int
    /// Where standard output went, when it was redirected to a file.
    public var stdoutFile: String?
    /// Where standard error went, when it was redirected to a file.
    public var stderrFile: String?

    /// The exit status, or nil when a signal ended the program.
    public var exitStatus: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }

    /// The signal that ended the program, or nil when it exited.
    public var signal: Int32? {
        if case .signalled(let signal, _) = termination { return signal }
        return nil
    }

    /// True when a signal ended the program and it dumped core.
    public var coreDumped: Bool {
        if case .signalled(_, true) = termination { return true }
        return false
    }

    /// True for exit status 0 within the time limit.
    public var succeeded: Bool { termination == .exited(0) && !timedOut && !cancelled }

    /// Standard output as text (invalid UTF-8 replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// Standard error as text (invalid UTF-8 replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// True when older standard output was dropped to stay within the output limit.
    public var stdoutTruncated: Bool { stdoutByteCount > stdout.count }

    /// True when older standard error was dropped to stay within the output limit.
    public var stderrTruncated: Bool { stderrByteCount > stderr.count }

    /// The last line of standard error with any letter or digit in it, without terminal
    /// control sequences or a leading `> `, shortened to 240 characters; nil if there is none.
    public var lastStderrLine: String? {
        if let stderrFile, stderr.isEmpty {
            return StderrSummary.lastMeaningfulLine(of: StderrSummary.tail(ofFile: stderrFile))
        }
        return StderrSummary.lastMeaningfulLine(of: stderr)
    }

    /// The error ``checkSuccess()`` would throw, or nil when the run succeeded.
    public var failure: WrapperError? {
        if succeeded { return nil }
        let code: WrapperError.Code
        var what: String
        if cancelled {
            code = .cancelled
            what = "\(tool) cancelled after \(StderrSummary.seconds(duration))"
        } else if timedOut {
            code = .timedOut
            what = "\(tool) timed out after \(StderrSummary.seconds(timeLimit ?? duration))"
        } else {
            switch termination {
            case .exited(let status):
                code = .failed
                what = "\(tool) failed: exit code \(status)"
            case .signalled(let number, let core):
                code = .signalled
                what = "\(tool) killed by \(SignalName.name(number))" + (core ? " (core dumped)" : "")
            }
        }
        if let line = lastStderrLine { what += ": " + line }
        return WrapperError(code, tool: tool, what, detail: commandLine, result: self)
    }

    /// Returns the result when the program exited with status 0 in time; otherwise throws an
    /// ``WrapperError`` (`failed`, `signalled`, `timedOut` or `cancelled`).
    @discardableResult
    public func checkSuccess() throws(WrapperError) -> AppResult {
        if let failure { throw failure }
        return self
    }
}

/// Reduces a tool's stderr to the one line worth showing.
enum StderrSummary {
    static let maxLineLength = 240
    static let tailBytes = 64 * 1024

    static func lastMeaningfulLine(of data: Data) -> String? {
        let text = stripControlSequences(String(decoding: data.suffix(tailBytes), as: UTF8.self))
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        for raw in lines.reversed() {
            // Astromatic tools (SWarp, source-extractor) start their messages with "> ".
            let line = raw.drop(while: { $0 == ">" || $0.isWhitespace })
                .trimmingCharacters(in: .whitespaces)
            guard line.unicodeScalars.contains(where: { CharacterSet.alphanumerics.contains($0) })
            else { continue }
            if line.count > maxLineLength { return String(line.prefix(maxLineLength - 1)) + "…" }
            return line
        }
        return nil
    }

    /// Removes ANSI escape sequences (SWarp and source-extractor draw progress with them) and
    /// other control characters except line ends and tabs.
    static func stripControlSequences(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\u{1B}" {
                guard let next = scalars.next() else { break }
                if next == "[" {
                    while let c = scalars.next(), !(0x40...0x7E).contains(c.value) {}
                }
                continue
            }
            if scalar.value < 0x20 && scalar != "\n" && scalar != "\r" && scalar != "\t" { continue }
            if scalar.value == 0x7F { continue }
            out.append(scalar)
        }
        return String(out)
    }

    static func tail(ofFile path: String) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return Data() }
        let start = size > UInt64(tailBytes) ? size - UInt64(tailBytes) : 0
        guard (try? handle.seek(toOffset: start)) != nil else { return Data() }
        return (try? handle.readToEnd()) ?? Data()
    }

    /// `600 s`, `0.5 s`, `12.3 s`.
    static func seconds(_ duration: Duration) -> String {
        let (whole, atto) = duration.components
        if atto == 0 { return "\(whole) s" }
        let value = Double(whole) + Double(atto) / 1e18
        return String(format: value < 10 ? "%.2g s" : "%.1f s", value)
    }
}
