import Foundation
import Testing
import TestSupport
import TransactionFormat
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL of lease holders, clients mid-load and the server mid-COPY: never partial rows,
/// and after a retry every file is loaded exactly once.
@Suite("dbrpcserver under SIGKILL", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct KillTests {
    /// Takes the lease (waiting), begins a step, loads each checksum, commits, releases.
    /// Prints one line per stage so the test can see how far it got.
    static let loader = #"""
import sys, xmlrpc.client, time, threading
url, holder, ttl, wait, pause = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
checksums = sys.argv[6:]
s = xmlrpc.client.ServerProxy(url, allow_none=True)
g = s.writeLock(holder, ttl, wait)
print("token", g["token"], flush=True)
def beat():
    b = xmlrpc.client.ServerProxy(url, allow_none=True)
    while True:
        time.sleep(ttl / 4)
        try:
            b.heartbeat(holder, g["token"])
        except Exception:
            return
threading.Thread(target=beat, daemon=True).start()
ev = s.beginStep(g["token"], {"cu": 4, "programme": "LAS", "command": ["cu4"], "host": "t", "version": "t"})
print("step", ev, flush=True)
for c in checksums:
    r = s.loadTransactionData(g["token"], ev, c)
    print("loaded", c[:12], r["rows"], r["alreadyLoaded"], flush=True)
time.sleep(pause)
print(s.updateCurationLog(g["token"], ev, "succeeded", ""), flush=True)
s.writeUnlock(holder, g["token"])
print("done", flush=True)
"""#

    static func startLoader(_ daemon: Daemon, holder: String, ttl: Double, wait: Double, pause: Double,
                            checksums: [String], output: URL) throws -> BackgroundProcess {
        try BackgroundProcess(TestEnvironment.python,
                              ["-c", loader, daemon.url(), holder, String(ttl), String(wait), String(pause)] + checksums,
                              outputFile: output.path)
    }

    @Test("two holders: the second gets the lease when the killed first one's expires; the dead token is refused")
    func killedHolder() async throws {
        try await Daemon.withFresh(leaseSeconds: 2) { daemon in
            let file = try TestFiles.quarantine(rows: 100, tag: "holder1", into: daemon.transactions)
            let out = daemon.directory.appendingPathComponent("first.out")
            // The first holder loads, then pauses before committing (long enough for a starved CI
            // machine to reach the kill first): killed there.
            let first = try Self.startLoader(daemon, holder: "first@t:1", ttl: 4, wait: 0, pause: 900,
                                             checksums: [file.manifest.sha256], output: out)
            try await waitFor { first.output.contains("loaded") }
            let token = Int(first.output.split(separator: "\n").first { $0.hasPrefix("token") }!.split(separator: " ")[1])!
            // A second holder is refused while the first beats... (the lease is live)
            let refused = try runProcess(TestEnvironment.python, ["-c", """
                import sys, xmlrpc.client
                s = xmlrpc.client.ServerProxy(sys.argv[1])
                try:
                    s.writeLock("second@t:2", 5, 0)
                except xmlrpc.client.Fault as f:
                    print(f.faultCode, f.faultString)
                """, daemon.url()])
            #expect(refused.stdout.hasPrefix("2001") && refused.stdout.contains("first@t:1"), "\(refused.stdout)\(refused.stderr)")
            first.signal(SIGKILL)
            first.wait()
            // ...and gets it once the dead holder's lease expires; the dead token is refused.
            let second = try runProcess(TestEnvironment.python, ["-c", """
                import sys, xmlrpc.client
                s = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
                g = s.writeLock("second@t:2", 5, 15)
                print("granted", g["token"])
                for call in (lambda: s.heartbeat("first@t:1", int(sys.argv[2])),
                             lambda: s.beginStep(int(sys.argv[2]), {"cu": 4})):
                    try:
                        call()
                        print("accepted")
                    except xmlrpc.client.Fault as f:
                        print("refused", f.faultCode)
                s.writeUnlock("second@t:2", g["token"])
                """, daemon.url(), String(token)])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("granted \(token + 1)"), "\(second.stdout)")
            #expect(second.stdout.components(separatedBy: "refused 2002").count == 3, "\(second.stdout)")
            #expect(!second.stdout.contains("accepted"))
            // The killed holder's step was rolled back and recorded as failed.
            #expect(try TestFiles.count("holder1", in: daemon.database) == 0)
            let failed = try runProcess(TestEnvironment.python, ["-c", """
                import sys, xmlrpc.client
                print(xmlrpc.client.ServerProxy(sys.argv[1]).listRuns("failed")[0]["errorText"])
                """, daemon.url(Daemon.reader)])
            #expect(failed.stdout.contains("expired") || failed.stdout.contains("superseded"), "\(failed.stdout)")
        }
    }

    @Test("SIGKILL of a client mid-load, many times: no partial rows, and a retry loads each file once")
    func killedClients() async throws {
        try await Daemon.withFresh(leaseSeconds: 2) { daemon in
            var generator = SplitMix64(seed: 7)
            for round in 0..<5 {
                let tag = "client\(round)"
                let rows = 150_000
                let file = try TestFiles.quarantine(rows: rows, tag: tag, into: daemon.transactions)
                let out = daemon.directory.appendingPathComponent("\(tag).out")
                let client = try Self.startLoader(daemon, holder: "\(tag)@t:1", ttl: 1, wait: 15, pause: 0,
                                                  checksums: [file.manifest.sha256], output: out)
                try await waitFor { client.output.contains("step") || !client.isRunning }
                usleep(UInt32.random(in: 0...900_000, using: &generator))
                client.signal(SIGKILL)
                client.wait()
                let after = try TestFiles.count(tag, in: daemon.database)
                #expect(after == 0 || after == rows, "round \(round): \(after) partial rows")
                // A retry (waiting out the dead holder's lease) loads it exactly once.
                let retry = try Self.startLoader(daemon, holder: "\(tag)@t:2", ttl: 60, wait: 20, pause: 0,
                                                 checksums: [file.manifest.sha256],
                                                 output: daemon.directory.appendingPathComponent("\(tag).retry"))
                retry.wait()
                #expect(retry.exitCode == 0, "round \(round): \(retry.output)")
                #expect(try TestFiles.count(tag, in: daemon.database) == rows, "round \(round)")
            }
        }
    }

    @Test("SIGKILL of dbrpcserver mid-COPY, many times: no partial rows, and after restart each file loads once")
    func killedServer() async throws {
        try await Daemon.withFresh(leaseSeconds: 5) { daemon in
            var generator = SplitMix64(seed: 11)
            for round in 0..<4 {
                let tag = "server\(round)"
                let rows = 300_000
                let file = try TestFiles.quarantine(rows: rows, tag: tag, into: daemon.transactions)
                let client = try Self.startLoader(daemon, holder: "\(tag)@t:1", ttl: 5, wait: 15, pause: 0,
                                                  checksums: [file.manifest.sha256],
                                                  output: daemon.directory.appendingPathComponent("\(tag).out"))
                try await waitFor { client.output.contains("step") || !client.isRunning }
                usleep(UInt32.random(in: 0...1_200_000, using: &generator))
                daemon.stop(SIGKILL)
                client.wait()
                let after = try TestFiles.count(tag, in: daemon.database)
                #expect(after == 0 || after == rows, "round \(round): \(after) partial rows")
                try daemon.restart()
                let retry = try Self.startLoader(daemon, holder: "\(tag)@t:2", ttl: 60, wait: 20, pause: 0,
                                                 checksums: [file.manifest.sha256],
                                                 output: daemon.directory.appendingPathComponent("\(tag).retry"))
                retry.wait()
                #expect(retry.exitCode == 0, "round \(round): \(retry.output)\n\(daemon.log.suffix(2000))")
                #expect(try TestFiles.count(tag, in: daemon.database) == rows, "round \(round)")
            }
            // Runs the killed servers left open are failed, with a reason.
            let runs = try runProcess(TestEnvironment.python, ["-c", """
                import sys, xmlrpc.client
                s = xmlrpc.client.ServerProxy(sys.argv[1])
                print(len([r for r in s.listRuns("started")]), "started")
                """, daemon.url(Daemon.reader)])
            #expect(runs.stdout.hasPrefix("0 started"), "\(runs.stdout)\(runs.stderr)")
        }
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func waitFor(_ seconds: Double = 30, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw PythonError(message: "timed out waiting") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
