import FITS
import Foundation
import Postgres
import SimulatorKit
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A curation installation for a test: a fresh migrated database with its dbrpcserver, a
/// delivery area holding a simulated night, and the archive, JPEG, quarantine, spool and log
/// directories; runs the real `cuN` and `curate` executables against them.
final class CurationHarness: @unchecked Sendable {
    let daemon: Daemon
    let root: URL
    let delivery: URL
    let admin: PostgresConnection

    var archive: URL { root.appendingPathComponent("archive") }
    var jpeg: URL { root.appendingPathComponent("jpeg") }
    var quarantine: URL { root.appendingPathComponent("quarantine") }

    init(daemon: Daemon, root: URL, night source: URL, only nights: Set<String>? = nil) throws {
        self.daemon = daemon
        self.root = root
        delivery = root.appendingPathComponent("delivery")
        try FileManager.default.createDirectory(at: delivery, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: source.path)
        where entry.hasSuffix("_v1") && nights.map({ $0.contains(entry) }) ?? true {
            try FileManager.default.copyItem(at: source.appendingPathComponent(entry), to: delivery.appendingPathComponent(entry))
        }
        admin = try PostgresConnection(daemon.database)
        try "# the tests configure through WSA_* variables\n".write(to: root.appendingPathComponent("none.toml"),
                                                                   atomically: true, encoding: .utf8)
    }

    deinit { admin.close() }

    /// Puts the night directory `entry` (`20051013_v1`) of a simulation into the delivery area.
    func deliver(_ entry: String, from source: URL) throws {
        try FileManager.default.copyItem(at: source.appendingPathComponent(entry), to: delivery.appendingPathComponent(entry))
    }

    /// The environment every program gets: the configuration, as WSA_* variables.
    var environment: [String: String] {
        [
            "WSA_CONFIG": root.appendingPathComponent("none.toml").path,
            "WSA_DATABASE_URL": daemon.database,
            "WSA_DATABASE_READER_URL": daemon.database.replacingOccurrences(of: "user=wsa", with: "user=wsa_reader"),
            "WSA_RPC_URL": daemon.plainURL,
            "WSA_RPC_USER": Daemon.curator.user,
            "WSA_RPC_PASSWORD": Daemon.curator.password,
            "WSA_PATHS_DELIVERY": delivery.path,
            "WSA_PATHS_ARCHIVE": archive.path,
            "WSA_PATHS_JPEG": jpeg.path,
            "WSA_PATHS_QUARANTINE": quarantine.path,
            "WSA_PATHS_SPOOL": daemon.spool.path,
            "WSA_PATHS_LOG": root.appendingPathComponent("log").path,
            "WSA_LOGGING_LEVEL": "info",
            "WSA_LOGGING_STDERR": "never",
        ]
    }

    /// Runs one of our programs to the end, waiting on a thread of its own (never blocking
    /// Swift's cooperative pool, which the other suites running beside this one share).
    @discardableResult
    func run(_ program: String, _ arguments: [String] = [], extra: [String: String] = [:]) async throws -> ProcessResult {
        let executable = TestEnvironment.productsDirectory.appendingPathComponent(program).path
        let environment = self.environment.merging(extra) { $1 }
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runProcess(executable, arguments, environment: environment) })
            }.start()
        }
    }

    /// Starts one of our programs in the background.
    func start(_ program: String, _ arguments: [String] = []) throws -> BackgroundProcess {
        try BackgroundProcess(TestEnvironment.productsDirectory.appendingPathComponent(program).path, arguments,
                              environment: environment,
                              outputFile: root.appendingPathComponent("\(program)-\(UUID().uuidString.prefix(6)).out").path)
    }

    /// Starts `program` and SIGKILLs it after `delay` seconds (a blocking sleep: the kill must
    /// land at this moment, however busy the task pool is). Returns false if it had already ended.
    func killAfter(_ delay: Double, _ program: String, _ arguments: [String] = []) throws -> Bool {
        let process = try start(program, arguments)
        usleep(UInt32(delay * 1_000_000))
        guard process.isRunning else {
            _ = process.wait()
            return false
        }
        process.signal(SIGKILL)
        _ = process.wait()
        return true
    }

    func count(_ sql: String) throws -> Int { try admin.queryValue(Int.self, PostgresQuery(unsafeSQL: sql)) }

    /// A digest of what the chain wrote: row counts and the checksums and keys of every table.
    func state() throws -> [String: String] {
        var state: [String: String] = [:]
        let r = "'\(root.path)'"
        let queries = [
            // Products (and their confidence maps) carry the time they were made (CHECKSUM's comment),
            // so their checksums are left out.
            "Multiframe": "SELECT count(*) || ':' || md5(string_agg(replace(fileName || CASE WHEN fileName LIKE '%/products/%' THEN '' ELSE checksum END || filterID || frameType || deprecated || catName, \(r), ''), ',' ORDER BY fileName)) FROM Multiframe",
            "Provenance": "SELECT count(*) || ':' || md5(string_agg(replace(p.fileName || i.fileName || v.inputOrder, \(r), ''), ',' ORDER BY p.fileName, v.inputOrder)) FROM Provenance v JOIN Multiframe p ON p.multiframeID = v.combiframeID JOIN Multiframe i ON i.multiframeID = v.multiframeID",
            "MultiframeDetector": "SELECT count(*) || ':' || md5(string_agg(replace(m.fileName || d.extNum || d.photZPCat || d.compFile, \(r), ''), ',' ORDER BY m.fileName, d.extNum)) FROM MultiframeDetector d JOIN Multiframe m USING (multiframeID)",
            "CurrentAstrometry": "SELECT count(*) || ':' || md5(string_agg(replace(m.fileName, \(r), '') || a.extNum || a.centralRa || a.centralDec, ',' ORDER BY m.fileName, a.extNum)) FROM CurrentAstrometry a JOIN Multiframe m USING (multiframeID)",
            "TransferLog": "SELECT count(*) || ':' || md5(string_agg(sourcePath || replace(fileName, \(r), '') || checksum || version || deprecated, ',' ORDER BY sourcePath, version)) FROM TransferLog",
            "Quarantine": "SELECT count(*) || ':' || md5(string_agg(sourcePath || replace(fileName, \(r), '') || checksum, ',' ORDER BY sourcePath, fileName)) FROM Quarantine",
            "CompressedImage": "SELECT count(*) FROM CompressedImage",
            "lasDetection": "SELECT count(*) || ':' || md5(string_agg(replace(m.fileName, \(r), '') || d.extNum || d.seqNum || d.ra || d.dec || d.aperMag3, ',' ORDER BY m.fileName, d.extNum, d.seqNum)) FROM lasDetection d JOIN Multiframe m USING (multiframeID)",
            "gpsDetection": "SELECT count(*) || ':' || md5(string_agg(replace(m.fileName, \(r), '') || d.extNum || d.seqNum || d.ra || d.dec || d.aperMag3, ',' ORDER BY m.fileName, d.extNum, d.seqNum)) FROM gpsDetection d JOIN Multiframe m USING (multiframeID)",
        ]
        for (table, sql) in queries {
            state[table] = try admin.query(PostgresQuery(unsafeSQL: sql)).first.flatMap { $0.text(at: 0) } ?? "0"
        }
        return state
    }

    /// Runs `body` with a harness on a fresh database and daemon.
    static func with<T>(night: URL, only nights: Set<String>? = nil, leaseSeconds: Double = 15,
                        _ body: (CurationHarness) async throws -> T) async throws -> T {
        try await Daemon.withFresh(leaseSeconds: leaseSeconds) { daemon in
            let root = try TestEnvironment.temporaryDirectory("curation")
            defer { try? FileManager.default.removeItem(at: root) }
            return try await body(try CurationHarness(daemon: daemon, root: root, night: night, only: nights))
        }
    }
}

/// The simulated night the curation tests use: LAS and GPS, one pointing, every kind of damaged
/// file; made once per test process.
enum TestNight {
    static let directory = SimulatedNights.make("wsa-curation-night-seed21-v1", seed: 21, size: 256,
                                                programmes: [.LAS, .GPS], corrupt: 5, starDensity: 3, galaxyDensity: 0.5)

    static var nightDirectory: URL { directory.appendingPathComponent("20051012_v1") }

    /// Damaged files: delivery path → kind.
    static func corrupt() throws -> [String: String] {
        let text = try String(contentsOf: directory.appendingPathComponent("truth/corrupt.csv"), encoding: .utf8)
        var kinds: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", maxSplits: 2).map(String.init)
            if fields.count >= 2 { kinds[fields[0]] = fields[1] }
        }
        return kinds
    }

    /// Good image files (delivery paths `night/name`).
    static func goodImages() throws -> [String] {
        let damaged = try corrupt()
        return try FileManager.default.contentsOfDirectory(atPath: nightDirectory.path)
            .filter { $0.hasSuffix("_sf_st.fit") }.map { "20051012_v1/\($0)" }
            .filter { damaged[$0] == nil }.sorted()
    }
}
