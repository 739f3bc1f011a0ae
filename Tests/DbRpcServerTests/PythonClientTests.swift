import Foundation
import Testing
import TestSupport
import TransactionFormat

/// Python's standard xmlrpc.client calls every method of a real dbrpcserver, with good and bad
/// arguments.
@Suite("dbrpcserver from Python's xmlrpc.client", .enabled(if: TestEnvironment.hasDatabase))
struct PythonClientTests {
    static let script = #"""
import sys, json, xmlrpc.client
curator_url, reader_url, files_json = sys.argv[1], sys.argv[2], sys.argv[3]
files = json.loads(files_json)
s = xmlrpc.client.ServerProxy(curator_url, allow_none=True)
r = xmlrpc.client.ServerProxy(reader_url, allow_none=True)

def fault(code, call, *args):
    try:
        call(*args)
    except xmlrpc.client.Fault as f:
        assert f.faultCode == code, f"expected fault {code}, got {f.faultCode}: {f.faultString}"
        return f.faultString
    raise AssertionError(f"expected fault {code}, got a result")

methods = s.system.listMethods()
expected = {"serverInfo", "leaseStatus", "writeLock", "heartbeat", "writeUnlock", "beginStep",
            "updateCurationLog", "loadTransactionData", "uploadTransactionFile", "listRuns",
            "failedRuns", "resume", "system.listMethods", "system.methodHelp",
            "system.methodSignature", "system.multicall"}
assert expected <= set(methods), set(methods) ^ expected
for m in methods:
    assert len(s.system.methodHelp(m)) > 20, m
    s.system.methodSignature(m)
fault(-32601, s.system.methodHelp, "noSuchMethod")
fault(-32601, s.noSuchMethod)

# Reader: may read, may not write.
assert "writeLock" not in r.system.listMethods()
fault(-32001, r.writeLock, "reader@x:1")
assert r.leaseStatus()["state"] == "free"
assert r.serverInfo()["version"]

# The lease.
fault(-32602, s.writeLock, 42)
fault(2005, s.writeLock, "   ")
fault(2005, s.writeLock, "a", -1)
g = s.writeLock("py@test:1", 30, 0)
tok = g["token"]
assert tok >= 1 and g["holder"] == "py@test:1" and g["validSeconds"] > 25
msg = fault(2001, s.writeLock, "other@test:2", 30, 0.2)
assert "py@test:1" in msg, msg
st = s.leaseStatus()
assert st["state"] == "held" and st["holder"] == "py@test:1" and st["token"] == tok
assert s.heartbeat("py@test:1", tok)["validSeconds"] > 25
assert s.heartbeat("py@test:1", str(tok), 40)["validSeconds"] > 35
fault(2002, s.heartbeat, "py@test:1", tok + 5)
fault(2005, s.heartbeat, "py@test:1", "not-a-token")

# Steps.
run = {"cu": 4, "programme": "LAS", "command": ["cu4", "--night", "20261123"], "host": "testhost", "version": "9.9.9"}
fault(2005, s.beginStep, tok, dict(run, cu=99))
fault(2005, s.beginStep, tok, dict(run, programme="NOPE"))
fault(2002, s.beginStep, tok + 1, run)
fault(-32602, s.beginStep, tok)
ev = s.beginStep(tok, run)
ev2 = s.beginStep(tok, dict(run, cu="CU3", programme="U/UKIDSS/GPS"))
info = s.serverInfo()
assert {o["cuEventID"] for o in info["openRuns"]} == {ev, ev2}

# Loads: from the shared spool, again (no-op), by upload.
a = files["a"]
res = s.loadTransactionData(tok, ev, a["checksum"])
assert res["rows"] == a["rows"] and not res["alreadyLoaded"] and res["table"].lower() == "quarantine", res
again = s.loadTransactionData(tok, ev, a["checksum"])
assert again["alreadyLoaded"] and again["rows"] == a["rows"] and again["cuEventID"] == ev
fault(2005, s.loadTransactionData, tok, ev, "xyz")
fault(2007, s.loadTransactionData, tok, ev, "0" * 64)
fault(2006, s.loadTransactionData, tok, 999999, a["checksum"])
fault(2002, s.loadTransactionData, tok + 1, ev, a["checksum"])
b = files["b"]
data = open(b["data"], "rb").read()
manifest = open(b["manifest"]).read()
fault(2008, s.uploadTransactionFile, manifest, xmlrpc.client.Binary(data[:-3] + b"xyz"))
fault(2008, s.uploadTransactionFile, "{not json", xmlrpc.client.Binary(data))
assert s.uploadTransactionFile(manifest, xmlrpc.client.Binary(data)) == b["checksum"]
assert s.loadTransactionData(tok, ev2, b["checksum"])["rows"] == b["rows"]

# Ending steps.
fault(2005, s.updateCurationLog, tok, ev, "maybe", "")
fault(2006, s.updateCurationLog, tok, 999999, "succeeded", "")
out = s.updateCurationLog(tok, ev, "succeeded", "")
assert out == {"cuEventID": ev, "status": "succeeded", "loads": 1, "rows": a["rows"]}, out
out2 = s.updateCurationLog(tok, ev2, "failed", "the test says so")
assert out2["status"] == "failed"
fault(2006, s.updateCurationLog, tok, ev, "succeeded", "")

# Runs.
runs = r.listRuns()
assert [x["cuEventID"] for x in runs[:2]] == [ev2, ev]
assert runs[1]["status"] == "succeeded" and runs[1]["command"] == ["cu4", "--night", "20261123"]
assert [x["cuEventID"] for x in r.listRuns("failed")] == [ev2]
assert r.listRuns("failed")[0]["errorText"] == "the test says so"
fault(2005, r.listRuns, "bogus")
assert [x["cuEventID"] for x in r.failedRuns()] == [ev2]
plan = s.resume(True)
assert len(plan) == 1 and plan[0]["cuEventID"] == ev2 and not plan[0]["started"], plan
fault(-32001, r.resume)

# multicall.
mc = s.system.multicall([{"methodName": "leaseStatus", "params": []},
                         {"methodName": "writeLock", "params": ["x"]}])
assert mc[0][0]["state"] == "held" and mc[1]["faultCode"] == 2001, mc

# Release.
assert s.writeUnlock("py@test:1", tok) is True
assert s.writeUnlock("py@test:1", tok) is False
fault(2004, s.heartbeat, "py@test:1", tok)
fault(2004, s.beginStep, tok, run)
assert s.leaseStatus()["state"] == "free"
print("ALL OK")
"""#

    @Test("every method, good and bad arguments")
    func everyMethod() async throws {
        try await Daemon.withFresh { daemon in
            let a = try TestFiles.quarantine(rows: 250, tag: "pya", into: daemon.transactions)
            let elsewhere = try TestEnvironment.temporaryDirectory("pyb")
            defer { try? FileManager.default.removeItem(at: elsewhere) }
            let b = try TestFiles.quarantine(rows: 40, tag: "pyb", into: elsewhere)
            let files: [String: [String: Any]] = [
                "a": ["checksum": a.manifest.sha256, "rows": 250],
                "b": ["checksum": b.manifest.sha256, "rows": 40, "data": b.data.path,
                      "manifest": b.data.deletingPathExtension().appendingPathExtension("json").path],
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: files), as: UTF8.self)
            let result = try runProcess(TestEnvironment.python,
                                        ["-c", Self.script, daemon.url(), daemon.url(Daemon.reader), json])
            #expect(result.status == 0, "\(result.stderr)\n--- daemon ---\n\(daemon.log.suffix(3000))")
            #expect(result.stdout.contains("ALL OK"))
            // The succeeded run's rows are there; the failed run's upload left nothing.
            #expect(try TestFiles.count("pya", in: daemon.database) == 250)
            #expect(try TestFiles.count("pyb", in: daemon.database) == 0)
        }
    }
}
