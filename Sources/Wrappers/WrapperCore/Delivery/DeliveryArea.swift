import Curation
public import Foundation
public import AppDriver
import TransactionFormat
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// One file of a night's delivery, as the delivery area names it.
public struct DeliveredFile: Sendable, Hashable {
    /// The night directory, `YYYYMMDD_vN`.
    public var night: String
    /// The file name inside the night directory.
    public var name: String
    /// The size in bytes (from `COMPLETE`, or as listed when there is none).
    public var size: Int64
    /// `night/name`.
    public var relativePath: String

    public init(night: String, name: String, size: Int64) {
        self.night = night
        self.name = name
        self.size = size
        self.relativePath = "\(night)/\(name)"
    }
}

/// A night directory of the delivery area and whether it may be fetched.
public struct DeliveryNight: Sendable {
    /// `YYYYMMDD_vN`.
    public var night: String
    /// True when the delivery is complete and may be fetched.
    public var ready: Bool
    /// Why the night is not ready, or how readiness was judged.
    public var reason: String
    /// The night's files (never `COMPLETE` itself), sorted by name.
    public var files: [DeliveredFile]
    /// The `COMPLETE` marker, when the night has one (fetch it like any file).
    public var marker: DeliveredFile?

    public init(night: String, ready: Bool, reason: String, files: [DeliveredFile], marker: DeliveredFile? = nil) {
        self.night = night
        self.ready = ready
        self.reason = reason
        self.files = files
        self.marker = marker
    }
}

/// A file copied out of the delivery area, verified.
public struct FetchedFile: Sendable {
    public var file: DeliveredFile
    /// Where the copy now is.
    public var destination: URL
    /// Bytes written (equal to `file.size`).
    public var bytes: Int64
    /// SHA-256 of the copy, lower-case hexadecimal.
    public var sha256: String
}

/// Where CASU delivers nights: `<area>/<YYYYMMDD_vN>/<files>` plus a `COMPLETE` marker written
/// last (`#` comments, then one `name bytes` line per file). Other top-level entries are ignored.
public protocol DeliveryArea: Sendable {
    /// "delivery area <path or URL>".
    var description: String { get }
    /// The night directories (`YYYYMMDD_vN`), by date then version.
    func nights() async throws(WrapperError) -> [String]
    /// The night's files and whether the delivery is complete.
    func night(_ name: String) async throws(WrapperError) -> DeliveryNight
    /// Copies `file` to `destination` (via a temporary name in the same directory, fsynced,
    /// size and SHA-256 verified, then renamed); on failure nothing is left at `destination`.
    func fetch(_ file: DeliveredFile, to destination: URL) async throws(WrapperError) -> FetchedFile
}

/// The delivery area at `location`: a `file:` URL of a directory, or an `http(s)` URL served as
/// static directory listings. `settle` is how long sizes must stay unchanged when a night has no
/// `COMPLETE` marker.
public func makeDeliveryArea(_ location: URL, settle: Duration = .seconds(2)) throws(WrapperError) -> any DeliveryArea {
    if location.isFileURL { return LocalDeliveryArea(directory: location, settle: settle) }
    return try HTTPDeliveryArea(base: location, settle: settle)
}

/// Rules shared by the local and HTTP areas.
enum Delivery {
    static let marker = "COMPLETE"

    /// True for `YYYYMMDD_vN`.
    static func isNightName(_ name: String) -> Bool {
        let parts = name.utf8.split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 8, parts[0].allSatisfy(isDigit) else { return false }
        let version = parts[1]
        return version.count >= 2 && version.first == UInt8(ascii: "v") && version.dropFirst().allSatisfy(isDigit)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Night names by date, then by version number (`_v2` before `_v10`).
    static func sortNights(_ names: [String]) -> [String] {
        func key(_ n: String) -> (String, Int) {
            (String(n.prefix(8)), Int(n.dropFirst(10)) ?? 0)
        }
        return names.sorted { key($0) < key($1) }
    }

    /// True for a name that can be a delivered file (no path separators, not `.`/`..`).
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    /// Files a delivery still in progress leaves: hidden names and `*.part`.
    static func isTransient(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".part")
    }

    static func requireNight(_ name: String, in area: String) throws(WrapperError) {
        guard isNightName(name) else {
            throw WrapperError(.deliveryUnavailable, file: name, "not a night directory name (YYYYMMDD_vN) in \(area)")
        }
    }

    /// The `(name, bytes)` entries of a `COMPLETE` marker, or the reason it cannot be used.
    static func parseMarker(_ text: String) -> Result<[(String, Int64)], MarkerError> {
        var entries: [(String, Int64)] = []
        var seen: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(where: { $0 == " " || $0 == "\t" }),
                  let bytes = Int64(line[line.index(after: space)...]), bytes >= 0 else {
                return .failure(MarkerError(reason: "COMPLETE line \(index + 1) is not \"name bytes\""))
            }
            let name = line[..<space].trimmingCharacters(in: .whitespaces)
            guard isPlainName(name), name != marker else {
                return .failure(MarkerError(reason: "COMPLETE line \(index + 1) names \"\(name)\", not a file of the night"))
            }
            if seen.insert(name).inserted { entries.append((name, bytes)) }
        }
        return .success(entries)
    }

    struct MarkerError: Error { var reason: String }

    /// Judges a night with a marker against the sizes present (nil: unknown, only presence checked).
    static func judge(night: String, marker entries: [(String, Int64)], present: [String: Int64?]) -> DeliveryNight {
        let files = entries.map { DeliveredFile(night: night, name: $0.0, size: $0.1) }.sorted { $0.name < $1.name }
        for (name, bytes) in entries {
            guard let found = present[name] else {
                return DeliveryNight(night: night, ready: false, reason: "\(night)/\(name): listed in COMPLETE but missing", files: files)
            }
            if let size = found, size != bytes {
                return DeliveryNight(night: night, ready: false,
                                     reason: "COMPLETE lists \(night)/\(name) at \(bytes) bytes, found \(size)", files: files)
            }
        }
        return DeliveryNight(night: night, ready: true,
                             reason: "COMPLETE lists \(entries.count) files, all present", files: files)
    }

    /// Judges a night without a marker from two listings `settle` apart.
    static func judgeStability(night: String, first: [String: Int64], second: [String: Int64],
                               settle: Duration) -> DeliveryNight {
        let files = second.filter { !isTransient($0.key) }
            .map { DeliveredFile(night: night, name: $0.key, size: $0.value) }.sorted { $0.name < $1.name }
        func notReady(_ reason: String) -> DeliveryNight {
            DeliveryNight(night: night, ready: false, reason: reason, files: files)
        }
        if let transient = second.keys.filter(isTransient).min() {
            return notReady("\(night)/\(transient): delivery in progress (temporary file), no marker")
        }
        for name in Set(first.keys).union(second.keys).sorted() {
            switch (first[name], second[name]) {
            case let (a?, b?) where a != b:
                return notReady("\(night)/\(name): size changed from \(a) to \(b) bytes within \(format(settle)), no marker")
            case (nil, _?):
                return notReady("\(night)/\(name): appeared within \(format(settle)), no marker")
            case (_?, nil):
                return notReady("\(night)/\(name): disappeared within \(format(settle)), no marker")
            default: continue
            }
        }
        if files.isEmpty { return notReady("no files and no marker") }
        return DeliveryNight(night: night, ready: true, reason: "sizes stable over \(format(settle)), no marker", files: files)
    }

    /// "2 s", "0.5 s".
    static func format(_ d: Duration) -> String {
        let s = d.secondsValue
        return s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }

    /// Runs blocking file work on a thread outside Swift's cooperative pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(WrapperError) -> T) async throws(WrapperError) -> T {
        let result: Result<T, WrapperError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(WrapperError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}

/// A destination file being written under a temporary name beside it
/// (``AtomicFile/temporaryPath(for:)``), hashed as it is written; ``commit()`` verifies it and
/// renames it into place.
package struct StagedFile {
    let file: DeliveredFile
    let label: String
    let destination: URL
    let temporary: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var bytes: Int64 = 0

    /// Creates the destination directory if needed and opens the temporary file.
    init(_ file: DeliveredFile, to destination: URL, label: String) throws(WrapperError) {
        self.file = file
        self.label = label
        self.destination = destination
        let directory = destination.deletingLastPathComponent().path
        temporary = AtomicFile.temporaryPath(for: destination.path)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot create the destination directory \(directory)")
        }
        let path = temporary
        do {
            fd = try syscall("open", path: path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot create the copy: \(error)")
        }
    }

    /// Appends `chunk` to the temporary file and the hash.
    mutating func write(_ chunk: UnsafeRawBufferPointer) throws(WrapperError) {
        do {
            try writeAll(fd, chunk, path: temporary)
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot write the copy: \(error)")
        }
        hasher.update(chunk)
        bytes += Int64(chunk.count)
    }

    /// fsyncs and closes the temporary file, checks its size and re-reads it against the hash of
    /// what was written, and commits it onto the destination (``AtomicFile/commit(_:to:alreadySynced:)``).
    mutating func commit() throws(WrapperError) -> FetchedFile {
        let descriptor = fd
        fd = -1
        do {
            try syscall("fsync", path: temporary) { fsync(descriptor) }
            _ = Glibc.close(descriptor)
        } catch {
            _ = Glibc.close(descriptor)
            throw WrapperError(.transferFailed, file: label, "cannot make the copy durable: \(error)")
        }
        guard bytes == file.size else {
            throw WrapperError(.transferFailed, file: label, "received \(bytes) bytes, expected \(file.size)")
        }
        let streamed = hasher.finalize().hexString
        let reread = try Self.hash(temporary, label: label)
        guard reread == streamed else {
            throw WrapperError(.transferFailed, file: label, "the copy's SHA-256 \(reread) differs from the bytes received (\(streamed))")
        }
        do {
            try AtomicFile.commit(temporary, to: destination.path, alreadySynced: true)
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot move the copy into place: \(error)")
        }
        return FetchedFile(file: file, destination: destination, bytes: bytes, sha256: streamed)
    }

    /// Closes and removes the temporary file (after a failure).
    mutating func abandon() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        unlink(temporary)
    }

    static let chunkSize = 1 << 20

    /// SHA-256 of the file at `path`.
    package static func hash(_ path: String, label: String) throws(WrapperError) -> String {
        do {
            return try SHA256.hexDigest(ofFile: path)
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot re-read the copy: \(error)")
        }
    }
}
