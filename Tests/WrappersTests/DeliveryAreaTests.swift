import Foundation
import SimulatorKit
import Testing
import TestSupport
import SystemSupport
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers
#if canImport(Glibc)
import Glibc
#endif

/// The delivery area (local directory and static HTTP server) on a simulated CASU night.
@Suite(.serialized) struct DeliveryAreaTests {
    static let nightName = "20051012_v1"

    /// One tiny LAS night (Y J H K, one pointing) with truth/ and external/ beside it; made once.
    static let area = SimulatedNights.make("wsa-delivery-night-seed3-v1", seed: 3, size: 128)

    static var nightDir: URL { area.appendingPathComponent(nightName) }

    /// The `name bytes` lines of the night's COMPLETE.
    static func marker() throws -> [String: Int64] {
        let text = try String(contentsOf: nightDir.appendingPathComponent("COMPLETE"), encoding: .utf8)
        var entries: [String: Int64] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            entries[String(parts[0])] = Int64(parts[1])!
        }
        return entries
    }

    /// SHA-256 by coreutils, independent of the code under test.
    static func sha256sum(_ path: String) throws -> String {
        let result = try runProcess("/usr/bin/sha256sum", [path])
        return String(result.stdout.prefix(64))
    }

    /// A scratch area holding a copy of the night (optionally without its COMPLETE).
    static func scratch(keepMarker: Bool = true) throws -> URL {
        let dir = try TestEnvironment.temporaryDirectory("wsa-delivery-scratch")
        try FileManager.default.copyItem(at: nightDir, to: dir.appendingPathComponent(nightName))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("truth"), withIntermediateDirectories: true)
        if !keepMarker { try FileManager.default.removeItem(at: dir.appendingPathComponent("\(nightName)/COMPLETE")) }
        return dir
    }

    static func hiddenFiles(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".") }
    }

    // MARK: Local

    @Test func localListsOnlyTheNightAndItIsReady() async throws {
        let area = try makeDeliveryArea(Self.area)
        #expect(area is LocalDeliveryArea)
        #expect(area.description == "delivery area \(Self.area.standardizedFileURL.path)")
        #expect(try await area.nights() == [Self.nightName])
        let night = try await area.night(Self.nightName)
        #expect(night.ready, "\(night.reason)")
        let expected = try Self.marker()
        #expect(expected.count == 12)
        #expect(Dictionary(uniqueKeysWithValues: night.files.map { ($0.name, $0.size) }) == expected)
        #expect(!night.files.contains { $0.name == "COMPLETE" })
        #expect(night.files.allSatisfy { $0.relativePath == "\(Self.nightName)/\($0.name)" })
    }

    @Test func localFetchIsByteIdenticalAndLeavesNoTemporaryFile() async throws {
        let out = try TestEnvironment.temporaryDirectory("wsa-delivery-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let area = try makeDeliveryArea(Self.area)
        let night = try await area.night(Self.nightName)
        for file in night.files {
            let destination = out.appendingPathComponent("deep/er/\(file.name)")
            let fetched = try await area.fetch(file, to: destination)
            #expect(fetched.bytes == file.size)
            #expect(fetched.destination == destination)
            #expect(fetched.sha256 == (try Self.sha256sum(Self.nightDir.appendingPathComponent(file.name).path)))
            #expect(fetched.sha256 == (try Self.sha256sum(destination.path)))
        }
        let copied = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("deep/er").path)
        #expect(Set(copied) == Set(night.files.map(\.name)))
    }

    @Test func aFetchOfTheWrongSizeFailsAndLeavesNothing() async throws {
        let out = try TestEnvironment.temporaryDirectory("wsa-delivery-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let area = try makeDeliveryArea(Self.area)
        var file = try await area.night(Self.nightName).files[0]
        for size in [file.size - 1, file.size + 1] {
            file.size = size
            let destination = out.appendingPathComponent(file.name)
            do {
                _ = try await area.fetch(file, to: destination)
                Issue.record("a fetch expecting \(size) bytes succeeded")
            } catch {
                #expect(error.code == .transferFailed)
                #expect(error.description.hasPrefix("\(Self.nightName)/\(file.name): "), "\(error)")
                #expect(!error.description.contains("\n"))
                }
            #expect(!FileManager.default.fileExists(atPath: destination.path))
            #expect(Self.hiddenFiles(out).isEmpty)
        }
        let ghost = DeliveredFile(night: Self.nightName, name: "ghost.fit", size: 10)
        await #expect(throws: WrapperError.self) { try await area.fetch(ghost, to: out.appendingPathComponent("ghost.fit")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test func aNightWithoutMarkerIsReadyWhenStable() async throws {
        let dir = try Self.scratch(keepMarker: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let area = try makeDeliveryArea(dir, settle: .milliseconds(300))
        #expect(try await area.nights() == [Self.nightName])
        let night = try await area.night(Self.nightName)
        #expect(night.ready, "\(night.reason)")
        #expect(night.reason == "sizes stable over 0.3 s, no marker")
        #expect(Dictionary(uniqueKeysWithValues: night.files.map { ($0.name, $0.size) }) == (try Self.marker()))
    }

    @Test func aNightWithoutMarkerAndAPartFileIsNotReady() async throws {
        let dir = try Self.scratch(keepMarker: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let area = try makeDeliveryArea(dir, settle: .milliseconds(100))
        for name in ["w20051012_00099_sf_st.fit.part", ".w20051012_00099_sf_st.fit"] {
            let path = dir.appendingPathComponent("\(Self.nightName)/\(name)").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
            let night = try await area.night(Self.nightName)
            #expect(!night.ready)
            #expect(night.reason.contains(name), "\(night.reason)")
            try FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func aNightWithoutMarkerAndAGrowingFileIsNotReady() async throws {
        let dir = try Self.scratch(keepMarker: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let area = try makeDeliveryArea(dir, settle: .milliseconds(600))
        let name = try Self.marker().keys.sorted()[2]
        let path = dir.appendingPathComponent("\(Self.nightName)/\(name)").path
        async let judged = area.night(Self.nightName)
        try await Task.sleep(for: .milliseconds(200))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 2880))
        try handle.close()
        let night = try await judged
        #expect(!night.ready)
        #expect(night.reason.contains(name) && night.reason.contains("size changed"), "\(night.reason)")
    }

    @Test func aMarkerListingAMissingOrShortFileIsNotReady() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let area = try makeDeliveryArea(dir)
        let markerPath = dir.appendingPathComponent("\(Self.nightName)/COMPLETE").path
        let original = try String(contentsOfFile: markerPath, encoding: .utf8)

        #expect(FileManager.default.createFile(atPath: dir.appendingPathComponent("\(Self.nightName)/x.fit.part").path,
                                               contents: Data("partial".utf8)))
        let withExtra = try await area.night(Self.nightName)
        #expect(withExtra.ready, "files not in COMPLETE are ignored: \(withExtra.reason)")
        #expect(!withExtra.files.contains { $0.name == "x.fit.part" })

        try (original + "w20051012_00099_sf_st.fit 2880\n").write(toFile: markerPath, atomically: true, encoding: .utf8)
        let missing = try await area.night(Self.nightName)
        #expect(!missing.ready)
        #expect(missing.reason.contains("w20051012_00099_sf_st.fit") && missing.reason.contains("missing"), "\(missing.reason)")

        let (name, size) = try Self.marker().min { $0.key < $1.key }!
        let wrong = original.replacingOccurrences(of: "\(name) \(size)\n", with: "\(name) \(size + 2880)\n")
        #expect(wrong != original)
        try wrong.write(toFile: markerPath, atomically: true, encoding: .utf8)
        let short = try await area.night(Self.nightName)
        #expect(!short.ready)
        #expect(short.reason.contains(name) && short.reason.contains("\(size + 2880)"), "\(short.reason)")
    }

    @Test func concurrentLocalFetchesAllSucceed() async throws {
        let out = try TestEnvironment.temporaryDirectory("wsa-delivery-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let area = try makeDeliveryArea(Self.area)
        let files = try await area.night(Self.nightName).files
        let fetched = try await Self.fetchAll(files, from: area, to: out, width: 4)
        #expect(fetched.count == files.count)
        for f in fetched {
            #expect(f.sha256 == (try Self.sha256sum(Self.nightDir.appendingPathComponent(f.file.name).path)))
        }
        #expect(Self.hiddenFiles(out).isEmpty)
    }

    /// Fetches `files` into `out`, `width` at a time.
    static func fetchAll(_ files: [DeliveredFile], from area: any DeliveryArea, to out: URL,
                         width: Int) async throws -> [FetchedFile] {
        try await withThrowingTaskGroup(of: FetchedFile.self) { group in
            var pending = files[...]
            var done: [FetchedFile] = []
            func start() {
                guard let file = pending.popFirst() else { return }
                group.addTask { try await area.fetch(file, to: out.appendingPathComponent(file.name)) }
            }
            for _ in 0..<width { start() }
            while let f = try await group.next() {
                done.append(f)
                start()
            }
            return done
        }
    }

    @Test func localThroughput() async throws {
        let dir = try TestEnvironment.temporaryDirectory("wsa-delivery-big")
        defer { try? FileManager.default.removeItem(at: dir) }
        let night = dir.appendingPathComponent("20051013_v1")
        try FileManager.default.createDirectory(at: night, withIntermediateDirectories: true)
        let size = 8 << 20
        var bytes = [UInt8](repeating: 0, count: size)
        var rng = SystemSupport.SplitMix64(seed: 7)
        for i in stride(from: 0, to: size, by: 8) { withUnsafeBytes(of: rng.next()) { bytes.replaceSubrange(i..<i + 8, with: $0) } }
        try Data(bytes).write(to: night.appendingPathComponent("big.fit"))
        try "# test\nbig.fit \(size)\n".write(to: night.appendingPathComponent("COMPLETE"), atomically: true, encoding: .utf8)
        let area = try makeDeliveryArea(dir)
        let file = try #require(try await area.night("20051013_v1").files.first)
        let clock = ContinuousClock()
        let start = clock.now
        let fetched = try await area.fetch(file, to: dir.appendingPathComponent("out/big.fit"))
        let seconds = (clock.now - start).secondsValue
        #expect(fetched.sha256 == (try Self.sha256sum(night.appendingPathComponent("big.fit").path)))
        print("local fetch of \(size >> 20) MiB: \(String(format: "%.1f", Double(size) / 1e6 / seconds)) MB/s")
    }

    // MARK: HTTP

    /// `python3 -m http.server` on a free port serving `dir`; returns it and its base URL.
    static func startServer(_ dir: URL) throws -> (BackgroundProcess, URL) {
        try StaticHTTPServer.start(serving: dir, log: dir.appendingPathComponent("http.log").path)
    }

    @Test func httpListsFetchesAndReportsA404() async throws {
        let dir = try Self.scratch()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("external"), withIntermediateDirectories: true)
        let out = try TestEnvironment.temporaryDirectory("wsa-delivery-out")
        let (server, base) = try Self.startServer(dir)
        defer {
            server.signal(SIGKILL)
            server.wait()
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: out)
        }
        let area = try makeDeliveryArea(base)
        #expect(area is HTTPDeliveryArea)
        #expect(try await area.nights() == [Self.nightName])
        let night = try await area.night(Self.nightName)
        #expect(night.ready, "\(night.reason)")
        #expect(Dictionary(uniqueKeysWithValues: night.files.map { ($0.name, $0.size) }) == (try Self.marker()))

        let fetched = try await Self.fetchAll(night.files, from: area, to: out, width: 4)
        #expect(fetched.count == night.files.count)
        for f in fetched {
            #expect(f.bytes == f.file.size)
            #expect(f.sha256 == (try Self.sha256sum(Self.nightDir.appendingPathComponent(f.file.name).path)))
            #expect(f.sha256 == (try Self.sha256sum(f.destination.path)))
        }
        #expect(Self.hiddenFiles(out).isEmpty)

        let gone = night.files[3]
        try FileManager.default.removeItem(at: dir.appendingPathComponent(gone.relativePath))
        let destination = out.appendingPathComponent("404/\(gone.name)")
        do {
            _ = try await area.fetch(gone, to: destination)
            Issue.record("fetching a deleted file succeeded")
        } catch {
            #expect(error.code == .transferFailed)
            #expect(error.description == "\(base.absoluteString)\(gone.relativePath): HTTP 404 Not Found", "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(Self.hiddenFiles(destination.deletingLastPathComponent()).isEmpty)

        let after = try await area.night(Self.nightName)
        #expect(!after.ready && after.reason.contains(gone.name), "\(after.reason)")
    }

    @Test func httpNightWithoutMarkerIsJudgedBySizes() async throws {
        let dir = try Self.scratch(keepMarker: false)
        let (server, base) = try Self.startServer(dir)
        defer {
            server.signal(SIGKILL)
            server.wait()
            try? FileManager.default.removeItem(at: dir)
        }
        let area = try makeDeliveryArea(base, settle: .milliseconds(200))
        let stable = try await area.night(Self.nightName)
        #expect(stable.ready, "\(stable.reason)")
        #expect(stable.reason == "sizes stable over 0.2 s, no marker")
        #expect(Dictionary(uniqueKeysWithValues: stable.files.map { ($0.name, $0.size) }) == (try Self.marker()))

        let part = dir.appendingPathComponent("\(Self.nightName)/w20051012_00099_sf_st.fit.part").path
        #expect(FileManager.default.createFile(atPath: part, contents: Data("x".utf8)))
        let inProgress = try await area.night(Self.nightName)
        #expect(!inProgress.ready && inProgress.reason.contains("w20051012_00099_sf_st.fit.part"), "\(inProgress.reason)")
    }

    @Test func aStalledDownloadTimesOutAndLeavesNothing() async throws {
        let dir = try TestEnvironment.temporaryDirectory("wsa-delivery-stall")
        let script = """
            import http.server, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"x" * 1000)
                    self.wfile.flush()
                    time.sleep(30)
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print("Serving HTTP on 127.0.0.1 port %d" % s.server_address[1], flush=True)
            s.serve_forever()
            """
        let server = try BackgroundProcess("/usr/bin/python3", ["-u", "-c", script],
                                           outputFile: dir.appendingPathComponent("server.log").path)
        defer {
            server.signal(SIGKILL)
            server.wait()
            try? FileManager.default.removeItem(at: dir)
        }
        var port = ""
        for _ in 0..<300 where port.isEmpty {
            if let range = server.output.range(of: "port ") { port = String(server.output[range.upperBound...].prefix { $0.isNumber }) }
            if port.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        let area = try HTTPDeliveryArea(base: URL(string: "http://127.0.0.1:\(port)/")!, timeout: .seconds(1),
                                        minimumRate: 1 << 30)
        let file = DeliveredFile(night: Self.nightName, name: "slow.fit", size: 100_000)
        let destination = dir.appendingPathComponent("out/slow.fit")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await area.fetch(file, to: destination)
            Issue.record("a stalled download succeeded")
        } catch {
            #expect(error.code == .transferFailed)
            #expect(error.description == "http://127.0.0.1:\(port)/\(Self.nightName)/slow.fit: not finished within 1 s", "\(error)")
        }
        #expect(clock.now - start < .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(Self.hiddenFiles(destination.deletingLastPathComponent()).isEmpty)
    }

    @Test func anUnreachableServerIsDeliveryUnavailable() async throws {
        let area = try HTTPDeliveryArea(base: URL(string: "http://127.0.0.1:9/delivery")!, timeout: .seconds(1))
        do {
            _ = try await area.nights()
            Issue.record("listing a closed port succeeded")
        } catch {
            #expect(error.code == .deliveryUnavailable)
            #expect(error.description.hasPrefix("http://127.0.0.1:9/delivery/: "), "\(error)")
        }
        #expect(throws: WrapperError.self) { try makeDeliveryArea(URL(string: "ftp://example.org/x")!) }
    }

    @Test func listingHrefsAreParsed() throws {
        let listing = URL(string: "http://h:8000/area/20051012_v1/")!
        let html = """
            <a href="../">Parent</a> <a href="?C=N;O=D">Name</a> <A HREF='w%20a%26b.fit'>w a&amp;b.fit</A>
            <a href="sub/">sub/</a> <a href="http://elsewhere/x.fit">x</a> <a href="/other/y.fit">y</a>
            <a href="/area/20051012_v1/abs.fit">abs</a> <a href="http://h:8000/area/20051012_v1/full.fit">f</a>
            <a href=bare.fit>b</a> <a href="a&amp;b.fit">amp</a> <a href="#top">top</a> <a href="deep/er.fit">d</a>
            """
        let entries = HTTPDeliveryArea.entries(html: html, listing: listing)
        #expect(entries.map(\.name) == ["w a&b.fit", "sub", "abs.fit", "full.fit", "bare.fit", "a&b.fit"])
        #expect(entries.map(\.directory) == [false, true, false, false, false, false])
    }
}
