public import Foundation
import SystemSupport
public import AppDriver
#if canImport(Glibc)
import Glibc
#endif

/// A delivery area that is a directory on a local or shared file system.
public struct LocalDeliveryArea: DeliveryArea {
    /// The area's root directory.
    public let directory: URL
    /// How long sizes must stay unchanged when a night has no `COMPLETE`.
    public let settle: Duration

    public init(directory: URL, settle: Duration = .seconds(2)) {
        self.directory = directory.standardizedFileURL
        self.settle = settle
    }

    public var description: String { "delivery area \(directory.path)" }

    public func nights() async throws(WrapperError) -> [String] {
        let root = directory.path
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw WrapperError(.deliveryUnavailable, file: root, "cannot list the delivery area: \(Self.reason(error))")
        }
        let nights = names.filter { Delivery.isNightName($0) && Self.isDirectory((root as NSString).appendingPathComponent($0)) }
        return Delivery.sortNights(nights)
    }

    public func night(_ name: String) async throws(WrapperError) -> DeliveryNight {
        try Delivery.requireNight(name, in: description)
        let path = directory.appendingPathComponent(name).path
        let first = try await Delivery.offload { () throws(WrapperError) in try Self.list(path) }
        if first[Delivery.marker] != nil {
            let text: String
            do {
                text = try String(contentsOfFile: (path as NSString).appendingPathComponent(Delivery.marker), encoding: .utf8)
            } catch {
                throw WrapperError(.deliveryUnavailable, file: "\(path)/\(Delivery.marker)", "cannot read: \(Self.reason(error))")
            }
            switch Delivery.parseMarker(text) {
            case .success(let entries):
                var judged = Delivery.judge(night: name, marker: entries, present: first.mapValues { Optional($0) })
                judged.marker = DeliveredFile(night: name, name: Delivery.marker, size: Int64(text.utf8.count))
                return judged
            case .failure(let problem):
                return DeliveryNight(night: name, ready: false, reason: "\(name)/\(problem.reason)", files: [])
            }
        }
        try? await Task.sleep(for: settle)
        let second = try await Delivery.offload { () throws(WrapperError) in try Self.list(path) }
        if second[Delivery.marker] != nil { return try await night(name) }
        return Delivery.judgeStability(night: name, first: first, second: second, settle: settle)
    }

    public func fetch(_ file: DeliveredFile, to destination: URL) async throws(WrapperError) -> FetchedFile {
        guard Delivery.isNightName(file.night), Delivery.isPlainName(file.name) else {
            throw WrapperError(.transferFailed, file: file.relativePath, "not a file of a night directory")
        }
        let source = directory.appendingPathComponent(file.night).appendingPathComponent(file.name).path
        let label = file.relativePath
        return try await Delivery.offload { () throws(WrapperError) in
            try Self.copy(source, file: file, to: destination, label: label)
        }
    }

    /// Copies `source` through a ``StagedFile``, hashing the bytes as read.
    private static func copy(_ source: String, file: DeliveredFile, to destination: URL,
                             label: String) throws(WrapperError) -> FetchedFile {
        let input: Int32
        do {
            input = try syscall("open", path: source) { open(source, O_RDONLY | O_CLOEXEC) }
        } catch {
            throw WrapperError(.transferFailed, file: label, "cannot read the delivered file: \(error)")
        }
        defer { _ = Glibc.close(input) }
        var staged = try StagedFile(file, to: destination, label: label)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: StagedFile.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        do throws(WrapperError) {
            while true {
                let n: Int
                do {
                    n = try syscall("read", path: source) { read(input, buffer.baseAddress, StagedFile.chunkSize) }
                } catch {
                    throw WrapperError(.transferFailed, file: label, "cannot read the delivered file: \(error)")
                }
                if n == 0 { break }
                if staged.bytes + Int64(n) > file.size {
                    throw WrapperError(.transferFailed, file: label, "the source is larger than the expected \(file.size) bytes")
                }
                try staged.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            return try staged.commit()
        } catch {
            staged.abandon()
            throw error
        }
    }

    /// Regular files of a directory (hidden ones included) with their sizes.
    static func list(_ path: String) throws(WrapperError) -> [String: Int64] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw WrapperError(.deliveryUnavailable, file: path, "cannot list the night: \(reason(error))")
        }
        var sizes: [String: Int64] = [:]
        for name in names {
            var st = stat()
            guard stat((path as NSString).appendingPathComponent(name), &st) == 0,
                  (st.st_mode & S_IFMT) == S_IFREG else { continue }
            sizes[name] = Int64(st.st_size)
        }
        return sizes
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such directory" }
        return ns.localizedDescription
    }
}
