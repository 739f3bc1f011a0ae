import Foundation
import Testing
import TestSupport
import TransactionFormat
#if canImport(Glibc)
import Glibc
#endif

/// Faults the service must survive beyond SIGKILL (KillTests): a lease holder frozen past its
/// lease, PostgreSQL crashing under a load, and the TLS path a remote CU uses.
@Suite("dbrpcserver faults", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct FaultTests {
    /// Takes the lease, begins a step, says "step", waits `pause` seconds (the test freezes it
    /// there), then loads and commits; each call's fault is printed rather than raised.
    static let frozenLoader = #"""
import sys, time, xmlrpc.client
url, holder, ttl, pause, checksum = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
s = xmlrpc.client.ServerProxy(url, allow_none=True)
g = s.writeLock(holder, ttl, 0)
ev = s.beginStep(g["token"], {"cu": 4, "programme": "LAS", "command": ["cu4"], "host": "t", "version": "t"})
print("step", ev, flush=True)
time.sleep(pause)
for name, call in (("load", lambda: s.loadTransactionData(g["token"], ev, checksum)),
                   ("commit", lambda: s.updateCurationLog(g["token"], ev, "succeeded", ""))):
    try:
        call()
        print(name, "accepted", flush=True)
    except xmlrpc.client.Fault as f:
        print(name, "refused", f.faultCode, flush=True)
"""#

    @Test("a holder frozen with SIGSTOP past its lease: another takes over, the woken one's writes are refused, rows load once")
    func frozenHolder() async throws {
        try await Daemon.withFresh(leaseSeconds: 2) { daemon in
            let rows = 20_000
            let file = try TestFiles.quarantine(rows: rows, tag: "frozen", into: daemon.transactions)
            let first = try BackgroundProcess(TestEnvironment.python,
                                              ["-c", Self.frozenLoader, daemon.url(), "first@t:1", "5", "1", file.manifest.sha256],
                                              outputFile: daemon.directory.appendingPathComponent("first.out").path)
            try await waitFor(180) { first.output.contains("step") || !first.isRunning }
            try #require(first.output.contains("step"), "the first holder did not begin its step: \(first.output)")
            first.signal(SIGSTOP)  // frozen before its load; no heartbeat either
            try await waitFor(60) { Self.state(of: first.pid) == "T" }
            // A second holder waits out the frozen one's lease, loads the same file and commits.
            let second = try KillTests.startLoader(daemon, holder: "second@t:2", ttl: 30, wait: 60, pause: 0,
                                                   checksums: [file.manifest.sha256],
                                                   output: daemon.directory.appendingPathComponent("second.out"))
            second.wait()
            #expect(second.output.contains("token 2") && second.output.contains("done"),
                    "\(second.output)\n\(daemon.log.suffix(2000))")
            #expect(try TestFiles.count("frozen", in: daemon.database) == rows)
            #expect(Self.state(of: first.pid) == "T", "the first holder was not frozen all along")
            // The frozen holder wakes: its load and its commit are refused by the fence.
            first.signal(SIGCONT)
            try await waitFor(120) { first.output.contains("commit ") || !first.isRunning }
            first.wait()
            // Refused: the stale token (2002), or the step the takeover rolled back and closed.
            #expect(first.output.contains("load refused 20") && first.output.contains("commit refused 20"),
                    "exit \(String(describing: first.exitCode)) signal \(String(describing: first.killedBy)): \(first.output)\n\(daemon.log.suffix(1500))")
            #expect(!first.output.contains("accepted"), "\(first.output)")
            #expect(try TestFiles.count("frozen", in: daemon.database) == rows, "rows loaded twice")
        }
    }

    /// The process state letter of `pid` (`R`, `S`, `T` stopped, …) from /proc.
    static func state(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].split(separator: " ").first.map(String.init)
    }

    @Test("the TLS path with a real certificate: Python's xmlrpc.client over https verifies it and loads")
    func tlsPath() async throws {
        let pki = try TestEnvironment.temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: pki) }
        let ca = pki.appendingPathComponent("ca.pem"), caKey = pki.appendingPathComponent("ca.key")
        let cert = pki.appendingPathComponent("server.pem"), key = pki.appendingPathComponent("server.key")
        let csr = pki.appendingPathComponent("server.csr"), ext = pki.appendingPathComponent("san.ext")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(to: ext, atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=wsa test CA",
             "-keyout", caKey.path, "-out", ca.path],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key.path, "-out", csr.path],
            ["x509", "-req", "-in", csr.path, "-CA", ca.path, "-CAkey", caKey.path, "-CAcreateserial", "-days", "2",
             "-extfile", ext.path, "-out", cert.path],
        ] {
            let made = try runProcess("/usr/bin/openssl", arguments)
            try #require(made.status == 0, "openssl \(arguments[0]): \(made.stderr)")
        }
        try await Daemon.withFresh(leaseSeconds: 5, environment: ["WSA_RPC_TLS_CERTIFICATE": cert.path,
                                                                  "WSA_RPC_TLS_KEY": key.path]) { daemon in
            #expect(daemon.url().hasPrefix("https://"))
            let file = try TestFiles.quarantine(rows: 1_000, tag: "tls", into: daemon.transactions)
            let result = try runProcess(TestEnvironment.python, ["-c", """
                import ssl, sys, xmlrpc.client
                url, ca, checksum = sys.argv[1], sys.argv[2], sys.argv[3]
                # Without the CA the certificate is refused...
                try:
                    xmlrpc.client.ServerProxy(url).system.listMethods()
                    print("unverified accepted")
                except ssl.SSLError as e:
                    print("unverified refused")
                # ...with it, the whole exchange works.
                s = xmlrpc.client.ServerProxy(url, allow_none=True, context=ssl.create_default_context(cafile=ca))
                g = s.writeLock("tls@t:1", 30, 0)
                ev = s.beginStep(g["token"], {"cu": 4, "programme": "LAS", "command": ["cu4"], "host": "t", "version": "t"})
                print("rows", s.loadTransactionData(g["token"], ev, checksum)["rows"])
                s.updateCurationLog(g["token"], ev, "succeeded", "")
                s.writeUnlock("tls@t:1", g["token"])
                print("done")
                """, daemon.url(), ca.path, file.manifest.sha256])
            #expect(result.status == 0, "\(result.stderr)\n\(daemon.log.suffix(2000))")
            #expect(result.stdout.contains("unverified refused"), "\(result.stdout)")
            #expect(result.stdout.contains("rows 1000") && result.stdout.contains("done"), "\(result.stdout)")
            #expect(try TestFiles.count("tls", in: daemon.database) == 1_000)
        }
    }

    @Test("PostgreSQL restarted with pg_ctl -m immediate during a load: dbrpcserver recovers by itself, the step is failed, a retry loads once")
    func postgresCrash() async throws {
        try await PrivateCluster.with { cluster in
            let directory = try TestEnvironment.temporaryDirectory("crash")
            defer { try? FileManager.default.removeItem(at: directory) }
            let daemon = try Daemon(database: cluster.conninfo, directory: directory, leaseSeconds: 5)
            defer { if daemon.process.isRunning { daemon.stop(SIGKILL) } }
            let rows = 400_000
            let file = try TestFiles.quarantine(rows: rows, tag: "crash", into: daemon.transactions)
            let client = try KillTests.startLoader(daemon, holder: "crash@t:1", ttl: 5, wait: 15, pause: 0,
                                                   checksums: [file.manifest.sha256],
                                                   output: directory.appendingPathComponent("client.out"))
            try await waitFor { client.output.contains("step") || !client.isRunning }
            usleep(150_000)
            try cluster.crashAndRestart()
            client.wait()
            let after = try TestFiles.count("crash", in: cluster.conninfo)
            #expect(after == 0 || after == rows, "\(after) partial rows")
            #expect(daemon.process.isRunning, "dbrpcserver died with PostgreSQL: \(daemon.log.suffix(2000))")
            // The same dbrpcserver, not restarted, serves the retry; the file is loaded once.
            let retry = try KillTests.startLoader(daemon, holder: "crash@t:2", ttl: 30, wait: 30, pause: 0,
                                                  checksums: [file.manifest.sha256],
                                                  output: directory.appendingPathComponent("retry.out"))
            retry.wait()
            #expect(retry.exitCode == 0, "\(retry.output)\n\(daemon.log.suffix(3000))")
            #expect(try TestFiles.count("crash", in: cluster.conninfo) == rows)
            if after == 0 {
                // The interrupted step is recorded failed (or was never committed as started).
                let runs = try runProcess(TestEnvironment.python, ["-c", """
                    import sys, xmlrpc.client
                    s = xmlrpc.client.ServerProxy(sys.argv[1])
                    print(len(s.listRuns("started")), "started")
                    """, daemon.url(Daemon.reader)])
                #expect(runs.stdout.hasPrefix("0 started"), "\(runs.stdout)\(runs.stderr)")
            }
        }
    }
}
