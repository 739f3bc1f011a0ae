import Foundation
import TestSupport

/// A real SMTP server for tests: `python3 -m aiosmtpd -n -d -l 127.0.0.1:<port>`, its output
/// (messages from the Debugging handler on stdout, the session log with `recip:` lines on
/// stderr) collected in a file. Stop it with ``stop()``.
final class SMTPTestServer: @unchecked Sendable {
    let port: Int
    let outputPath: String
    private let process: Process

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the server and waits (bounded) until it listens.
    ///
    /// - Parameters:
    ///   - handlerClass: `module.Class` for aiosmtpd's `-c`, found in `pythonPath`.
    init(port: Int, directory: URL, handlerClass: String? = nil, pythonPath: String? = nil) throws {
        self.port = port
        outputPath = directory.appendingPathComponent("smtpd-\(port)-\(UUID().uuidString.prefix(6)).out").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        var arguments = ["-u", "-m", "aiosmtpd", "-n", "-d", "-l", "127.0.0.1:\(port)"]
        if let handlerClass { arguments += ["-c", handlerClass] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        if let pythonPath { environment["PYTHONPATH"] = pythonPath }
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()
        let ready = waitUntil(timeout: 30) {
            self.output.contains("Server is listening") || !process.isRunning
        }
        guard ready, process.isRunning else {
            stop()
            throw Failure(description: "aiosmtpd did not start on port \(port):\n\(self.output)")
        }
    }

    /// Everything the server printed so far.
    var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// The messages received so far (text between the Debugging handler's markers).
    var messages: [String] {
        let parts = output.components(separatedBy: "---------- MESSAGE FOLLOWS ----------")
        return parts.dropFirst().map { part in
            part.components(separatedBy: "------------ END MESSAGE ------------").first ?? part
        }
    }

    /// Envelope recipients seen so far (`recip:` lines of the session log).
    var recipients: [String] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: " recip: ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Waits (bounded) until at least `count` messages arrived.
    func waitForMessages(_ count: Int, timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) { messages.count >= count }
    }

    /// Kills the server and waits for it.
    ///
    /// SIGKILL, not `terminate()`: a child that Foundation's `Process` spawns from a worker
    /// thread inherits that thread's signal mask, with SIGTERM blocked, so SIGTERM is ignored.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// A received message made readable: header lines unfolded, the quoted-printable body
    /// decoded.
    static func readable(_ raw: String) -> String {
        guard let split = raw.range(of: "\n\n") else { return raw }
        let headers = raw[..<split.lowerBound].replacingOccurrences(of: "\n ", with: " ")
        let body = raw[split.upperBound...].replacingOccurrences(of: "=\n", with: "")
        var bytes: [UInt8] = []
        var utf8 = Array(body.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "="), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return headers + "\n\n" + String(decoding: bytes, as: UTF8.self)
    }

    deinit { stop() }
}
