import Foundation
import SystemSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("AtomicFile and the errno funnel")
struct AtomicFileTests {
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wsa-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func names(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    @Test("a write replaces the file whole and leaves no temporary name")
    func write() throws {
        let dir = try Self.directory()
        let path = dir + "/frame.jpg"
        try AtomicFile.write(Array("old".utf8), to: path)
        try AtomicFile.write(Array("new contents".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new contents")
        #expect(try Self.names(dir) == ["frame.jpg"])
    }

    @Test("a write that fails leaves what was there and no temporary file")
    func failedWrite() throws {
        let dir = try Self.directory()
        let path = dir + "/table.pgcopy"
        try AtomicFile.write(Array("kept".utf8), to: path)
        struct Stop: Error {}
        #expect(throws: SystemCallError.self) {
            try AtomicFile.write(to: path) { fd throws(SystemCallError) in
                _ = Glibc.write(fd, "partial", 7)
                throw SystemCallError(call: "write", path: path, errno: ENOSPC)
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept")
        #expect(try Self.names(dir) == ["table.pgcopy"])
    }

    @Test("files committed together all appear, or none")
    func commitTogether() throws {
        let dir = try Self.directory()
        let a = try AtomicFile.writeTemporary(Array("a".utf8), beside: dir + "/a.jpg")
        let b = try AtomicFile.writeTemporary(Array("b".utf8), beside: dir + "/b.jpg")
        #expect(AtomicFile.isTemporaryName(URL(fileURLWithPath: a).lastPathComponent))
        try AtomicFile.commit([(a, dir + "/a.jpg"), (b, dir + "/b.jpg")])
        #expect(try Self.names(dir) == ["a.jpg", "b.jpg"])

        let c = try AtomicFile.writeTemporary(Array("c".utf8), beside: dir + "/c.jpg")
        let d = try AtomicFile.writeTemporary(Array("d".utf8), beside: dir + "/d.jpg")
        #expect(throws: SystemCallError.self) {
            try AtomicFile.commit([(c, dir + "/c.jpg"), (d, dir + "/no/such/dir/d.jpg")])
        }
        #expect(try Self.names(dir) == ["a.jpg", "b.jpg"])
    }

    @Test("the funnel names the call and the path, and retries EINTR")
    func funnel() throws {
        do {
            try syscall("open", path: "/no/such/file") { open("/no/such/file", O_RDONLY) }
            Issue.record("opening a missing file succeeded")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.description == "open /no/such/file: No such file or directory")
        }
        var calls = 0
        let result = try syscall("read") { () -> Int32 in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(result == 5 && calls == 3)
    }

    @Test("blocking work runs every item once and keeps the order")
    func parallel() async {
        let results = await parallelMap(Array(0..<100), jobs: 4) { $0 * $0 }
        #expect(results.map { try? $0.get() } == (0..<100).map { $0 * $0 })
    }
}
