import Curation
import Foundation
import Postgres
import Testing
import TestSupport
import WrapperCore
import TransactionFormat
import AppDriver
import RPCContract
#if canImport(Glibc)
import Glibc
#endif

/// DbHandler and QueryHandler against a real daemon, and the HTTP edge's refusals.
@Suite("DbHandler, QueryHandler and the HTTP edge", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct WrapperClientTests {
    func handler(_ daemon: Daemon, spool: URL, program: String = "cu4") throws -> DbHandler {
        var config = WSAConfig()
        config.rpc.url = daemon.plainURL
        config.rpc.user = Daemon.curator.user
        config.rpc.password = Daemon.curator.password
        config.paths.spool = spool.path
        return try DbHandler(config: config, program: program)
    }

    func transactionData(_ file: (manifest: TransactionManifest, data: URL)) -> TransactionData {
        TransactionData(dataFile: file.data, table: file.manifest.table, rowCount: file.manifest.rowCount,
                        sha256: file.manifest.sha256)
    }

    @Test("DbHandler: lease kept alive past its TTL by heartbeats, upload when the spool is not shared, exactly once")
    func dbHandlerRoundTrip() async throws {
        try await Daemon.withFresh(leaseSeconds: 8) { daemon in
            let clientSpool = try TestEnvironment.temporaryDirectory("client")
            defer { try? FileManager.default.removeItem(at: clientSpool) }
            let db = try handler(daemon, spool: clientSpool)
            let file = try TestFiles.quarantine(rows: 500, tag: "dbh", into: db.transactionDirectory)
            try await db.writeLock()
            let step = try await db.beginStep(cu: 4, programme: "LAS")
            try await Task.sleep(for: .seconds(17))  // > 2 TTLs: only heartbeats keep the lease
            let first = try await db.loadTransactionData(transactionData(file), in: step)
            #expect(first.rows == 500 && first.uploaded && !first.alreadyLoaded)
            let (loads, rows) = try await db.updateCurationLog(step, status: .succeeded)
            #expect(loads == 1 && rows == 500)
            let again = try await db.beginStep(cu: 4, programme: "LAS")
            let second = try await db.loadTransactionData(transactionData(file), in: again)
            #expect(second.alreadyLoaded && second.rows == 500)
            try await db.updateCurationLog(again, status: .succeeded)
            try await db.writeUnlock()
            #expect(try TestFiles.count("dbh", in: daemon.database) == 500)
        }
    }

    @Test("DbHandler.callProcedure: the function's count, its RAISE as the error's text, the step goes on and commits")
    func callProcedure() async throws {
        try await Daemon.withFresh { daemon in
            let admin = try PostgresConnection(daemon.database)
            defer { admin.close() }
            try admin.execute(unsafeSQL: """
                CREATE SCHEMA IF NOT EXISTS curation;
                CREATE TABLE public.dbh_procedure_rows (id bigint NOT NULL);
                CREATE FUNCTION curation.test_dbh_insert(p_ids bigint[]) RETURNS bigint LANGUAGE sql AS $$
                    WITH i AS (INSERT INTO public.dbh_procedure_rows SELECT unnest(p_ids) RETURNING 1)
                    SELECT count(*) FROM i $$;
                CREATE FUNCTION curation.test_dbh_fail(p_tag text) RETURNS bigint LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO public.dbh_procedure_rows VALUES (-1);
                    RAISE EXCEPTION 'no frames for %', p_tag;
                END $$;
                """)
            let clientSpool = try TestEnvironment.temporaryDirectory("procedure")
            defer { try? FileManager.default.removeItem(at: clientSpool) }
            let db = try handler(daemon, spool: clientSpool, program: "cu8")
            try await db.writeLock()
            let step = try await db.beginStep(cu: 8, programme: "LAS")
            #expect(try await db.callProcedure("test_dbh_insert", [.intArray([1, 2, 3_000_000_000])], in: step) == 3)
            do throws(WrapperError) {
                try await db.callProcedure("test_dbh_fail", [.text("LAS")], in: step)
                Issue.record("a failing procedure did not throw")
            } catch {
                #expect(error.fault == .databaseError)
                #expect(error.message.contains("curation.test_dbh_fail: no frames for LAS"))
            }
            do throws(WrapperError) {
                try await db.callProcedure("no_such_procedure", [], in: step)
                Issue.record("an unknown procedure did not throw")
            } catch {
                #expect(error.fault == .invalidArgument)
                #expect(error.message.contains("test_dbh_insert"))
            }
            try await db.updateCurationLog(step, status: .succeeded)
            try await db.writeUnlock()
            #expect(try admin.queryValue(Int.self, "SELECT count(*)::int FROM dbh_procedure_rows") == 3)
            #expect(try admin.queryValue(Int64.self, "SELECT max(id) FROM dbh_procedure_rows") == 3_000_000_000)
        }
    }

    @Test("tampered transaction files are refused and nothing is written")
    func tamperedFiles() async throws {
        try await Daemon.withFresh { daemon in
            let clientSpool = try TestEnvironment.temporaryDirectory("tamper")
            defer { try? FileManager.default.removeItem(at: clientSpool) }
            let db = try handler(daemon, spool: clientSpool)
            try await db.writeLock()
            let step = try await db.beginStep(cu: 4, programme: "LAS")
            func manifestURL(_ data: URL) -> URL { data.deletingPathExtension().appendingPathExtension("json") }

            // One byte changed in the data.
            let byte = try TestFiles.quarantine(rows: 50, tag: "tbyte", into: db.transactionDirectory)
            var bytes = try Data(contentsOf: byte.data)
            bytes[bytes.count / 2] ^= 0x20
            try bytes.write(to: byte.data)
            // The manifest claims another row count.
            let count = try TestFiles.quarantine(rows: 50, tag: "tcount", into: db.transactionDirectory)
            var m1 = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL(count.data))) as! [String: Any]
            m1["rowCount"] = 51
            try JSONSerialization.data(withJSONObject: m1).write(to: manifestURL(count.data))
            // The manifest names columns the table does not have (same count).
            let cols = try TestFiles.quarantine(rows: 50, tag: "tcols", into: db.transactionDirectory)
            var m2 = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL(cols.data))) as! [String: Any]
            m2["columns"] = ["fileName", "noSuchColumn", "cuEventID"]
            try JSONSerialization.data(withJSONObject: m2).write(to: manifestURL(cols.data))
            // The manifest names one column too few.
            let fewer = try TestFiles.quarantine(rows: 50, tag: "tfewer", into: db.transactionDirectory)
            var m3 = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL(fewer.data))) as! [String: Any]
            m3["columns"] = ["fileName", "reason"]
            try JSONSerialization.data(withJSONObject: m3).write(to: manifestURL(fewer.data))
            // The manifest targets the server's own table.
            let own = try TestFiles.quarantine(rows: 5, tag: "town", into: db.transactionDirectory)
            var m4 = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL(own.data))) as! [String: Any]
            m4["table"] = "LoadLedger"
            try JSONSerialization.data(withJSONObject: m4).write(to: manifestURL(own.data))

            for (name, file) in [("byte", byte), ("count", count), ("columns", cols), ("fewer", fewer), ("own", own)] {
                do {
                    _ = try await db.loadTransactionData(transactionData(file), in: step)
                    Issue.record("the \(name)-tampered file was loaded")
                } catch let error as WrapperError {
                    #expect(error.fault == .transactionFileRefused, "\(name): \(error)")
                }
            }
            // The step survives refused loads: a good file still loads and commits.
            let good = try TestFiles.quarantine(rows: 7, tag: "tgood", into: db.transactionDirectory)
            #expect(try await db.loadTransactionData(transactionData(good), in: step).rows == 7)
            try await db.updateCurationLog(step, status: .succeeded)
            try await db.writeUnlock()
            for tag in ["tbyte", "tcount", "tcols", "tfewer", "town"] {
                #expect(try TestFiles.count(tag, in: daemon.database) == 0, "\(tag)")
            }
            #expect(try TestFiles.count("tgood", in: daemon.database) == 7)
        }
    }

    @Test("wrong password 401, oversize 413, DOCTYPE refused; a concurrent good client is not disturbed")
    func httpRefusals() async throws {
        try await Daemon.withFresh { daemon in
            let good = try BackgroundProcess(TestEnvironment.python, ["-c", """
                import sys, xmlrpc.client
                s = xmlrpc.client.ServerProxy(sys.argv[1])
                for i in range(300):
                    assert s.leaseStatus()["state"] == "free"
                print("good client ok")
                """, daemon.url()], outputFile: daemon.directory.appendingPathComponent("good.out").path)
            let bad = try runProcess(TestEnvironment.python, ["-c", """
                import sys, urllib.request, urllib.error, base64, xmlrpc.client
                port = sys.argv[1]
                url = f"http://127.0.0.1:{port}/RPC2"
                def post(body, user="cu", password="cu-secret"):
                    req = urllib.request.Request(url, data=body, method="POST")
                    req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
                    req.add_header("Content-Type", "text/xml")
                    try:
                        with urllib.request.urlopen(req, timeout=30) as r:
                            return r.status, r.read().decode()
                    except urllib.error.HTTPError as e:
                        return e.code, e.read().decode()
                call = xmlrpc.client.dumps((), "leaseStatus").encode()
                for i in range(20):
                    assert post(call, password="wrong")[0] == 401
                    assert post(call, user="nobody")[0] == 401
                    if i % 4 == 0:
                        assert post(b"<?xml version='1.0'?>" + b" " * (17 << 20))[0] == 413
                    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><methodCall><methodName>&b;</methodName></methodCall>'
                    status, text = post(laughs)
                    assert status == 400 and "DOCTYPE" in text, (status, text)
                    external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><methodCall><methodName>&e;</methodName></methodCall>'
                    assert post(external)[0] == 400
                    assert post(b"<methodCall><methodName>leaseStatus</methodName><params/></methodCall>")[0] == 200
                req = urllib.request.Request(url, data=call, method="POST")
                try:
                    urllib.request.urlopen(req)
                except urllib.error.HTTPError as e:
                    assert e.code == 401 and "Basic" in e.headers["WWW-Authenticate"]
                print("bad requests refused")
                """, String(daemon.port)])
            #expect(bad.status == 0, "\(bad.stderr)")
            good.wait()
            #expect(good.exitCode == 0 && good.output.contains("good client ok"), "\(good.output)")
            let metrics = try runProcess("/usr/bin/curl", ["-s", "http://127.0.0.1:\(daemon.port)/metrics"])
            #expect(metrics.stdout.contains("dbrpc_http_refused_total{reason=\"unauthorized\"} 41"), "\(metrics.stdout)")
            #expect(metrics.stdout.contains("dbrpc_http_refused_total{reason=\"too_large\"} 5"))
            #expect(metrics.stdout.contains("dbrpc_http_refused_total{reason=\"doctype\"} 40"))
            let health = try runProcess("/usr/bin/curl", ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(daemon.port)/healthz"])
            #expect(health.stdout.hasPrefix("ok:") && health.stdout.hasSuffix(" 200"))
        }
    }

    @Test("SIGTERM drains: open runs are rolled back and recorded failed, exit 0")
    func sigtermDrains() async throws {
        try await Daemon.withFresh { daemon in
            let clientSpool = try TestEnvironment.temporaryDirectory("term")
            defer { try? FileManager.default.removeItem(at: clientSpool) }
            let db = try handler(daemon, spool: clientSpool)
            try await db.writeLock()
            let step = try await db.beginStep(cu: 3, programme: "GPS")
            let file = try TestFiles.quarantine(rows: 20, tag: "term", into: db.transactionDirectory)
            _ = try await db.loadTransactionData(transactionData(file), in: step)
            daemon.stop(SIGTERM)
            #expect(daemon.process.exitCode == 0, "\(daemon.log.suffix(2000))")
            let log = (try? String(contentsOf: daemon.directory.appendingPathComponent("log/dbrpcserver.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("stopped cleanly"), "\(log.suffix(2000))")
            #expect(try TestFiles.count("term", in: daemon.database) == 0)
            let connection = try PostgresConnection(daemon.database)
            defer { connection.close() }
            let status = try connection.queryValue(String.self, "SELECT status || ': ' || errorText FROM ProgrammeCurationHistory WHERE cuEventID = \(step.cuEventID)")
            #expect(status.hasPrefix("failed: the load server shut down"), "\(status)")
        }
    }

    @Test("QueryHandler: the reader role cannot write, limits rows and says so")
    func queryHandler() async throws {
        try await Daemon.withFresh { daemon in
            let readerURL = daemon.database.replacingOccurrences(of: "user=wsa", with: "user=wsa_reader")
            let query = try QueryHandler(conninfo: readerURL, statementTimeout: .seconds(1))
            defer { query.close() }
            #expect(try query.programmes()["LAS"] == 101)
            let table = try query.freeQuery("SELECT generate_series(1, 50) AS n", rowLimit: 10)
            #expect(table.rows.count == 10 && table.truncated && table.columns == ["n"])
            #expect(try query.freeQuery("SELECT 1 AS one", rowLimit: 10).truncated == false)
            for sql in ["INSERT INTO Quarantine (fileName, reason, cuEventID) VALUES ('x', 'y', 0) RETURNING 1",
                        "SELECT 1; DELETE FROM Quarantine"] {
                #expect(throws: WrapperError.self) { try query.freeQuery(sql) }
            }
            // Even a session that turns read-only off cannot write: the grants say no.
            let raw = try PostgresConnection(readerURL)
            defer { raw.close() }
            _ = try raw.execute(unsafeSQL: "SET default_transaction_read_only = off")
            #expect(throws: PostgresError.self) {
                try raw.execute(unsafeSQL: "INSERT INTO Quarantine (fileName, reason, cuEventID) VALUES ('x', 'y', 0)")
            }
            do {
                _ = try query.freeQuery("SELECT pg_sleep(3)")
                Issue.record("the statement timeout did not cancel pg_sleep(3)")
            } catch let error as WrapperError {
                #expect(error.code == .timeout)
            }
        }
    }
}
