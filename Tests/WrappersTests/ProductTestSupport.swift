import FITS
import Foundation
import Testing
import TestSupport
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// What the suites of the product drivers (``StackDriverTests``, ``DiaDriverTests``) share:
/// scratch directories, one image HDU as read, stand-ins for SWarp that fail or crash, inputs cut
/// short, and the checks on a failure (its error, nothing left behind).
enum ProductTestSupport {
    /// One image HDU of a product or frame, as float32 pixels, with its header and WCS.
    struct Image {
        var width: Int
        var height: Int
        var pixels: [Float]
        var header: FITSHeader
        var wcs: WCS
        /// The pixel at FITS pixel (x, y) (1-based).
        func at(_ x: Int, _ y: Int) -> Float { pixels[(y - 1) * width + (x - 1)] }

        /// HDU `hdu` of `url`.
        static func read(_ url: URL, hdu: Int) throws -> Image {
            let file = try FITSFile.open(url.path)
            defer { try? file.close() }
            try file.moveTo(hdu: hdu)
            let dims = try file.imageShape().dimensions
            return Image(width: dims[0], height: dims[1], pixels: try file.readPixels(as: Float.self),
                         header: try file.header(), wcs: try file.wcs())
        }
    }

    /// A fresh output directory `products` and work directory `work` in a new temporary
    /// directory named after `prefix` (their parent, for the caller to remove).
    static func directories(_ prefix: String) throws -> (out: URL, work: URL) {
        let base = try TestEnvironment.temporaryDirectory(prefix)
        let out = base.appendingPathComponent("products"), work = base.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        return (out, work)
    }

    /// The path of a new executable `/bin/sh` script in `dir` that runs `body`.
    static func script(_ body: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("fake-SWarp-\(UUID().uuidString.prefix(6))").path
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// A SWarp that prints an error line and exits 3; AppDriver reports it as
    /// ``failingSwarpMessage``.
    static func failingSwarp(in dir: URL) throws -> String {
        try script("echo '> *Error*: simulated SWarp failure' >&2\nexit 3", in: dir)
    }

    static let failingSwarpMessage = "SWarp failed: exit code 3: *Error*: simulated SWarp failure"

    /// A SWarp whose runs before the `run`-th are the real `/usr/bin/SWarp` and which kills
    /// itself with SIGSEGV from then on (the runs are counted in the file `runs` in `dir`).
    static func crashingSwarp(fromRun run: Int, in dir: URL) throws -> String {
        let counter = dir.appendingPathComponent("runs").path
        return try script("""
            echo x >> \(counter)
            if [ $(wc -l < \(counter)) -ge \(run) ]; then kill -SEGV $$; fi
            exec /usr/bin/SWarp "$@"
            """, in: dir)
    }

    /// A copy in `dir`, under the same name, of the first `tenths` tenths of `file` (a FITS file
    /// whose headers are readable and whose pixels are not).
    static func truncatedCopy(of file: URL, tenths: Int, in dir: URL) throws -> URL {
        let cut = dir.appendingPathComponent(file.lastPathComponent)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count * tenths / 10).write(to: cut)
        return cut
    }

    /// Runs `attempt` (making a product in `out`, with `work` as its work directory) and expects
    /// it to fail with an error on one line that passes `check`, leaving `out` and `work` empty;
    /// prints the error, `label` saying which failure it is.
    static func expectFailure(_ label: String, out: URL, work: URL, sourceLocation: SourceLocation = #_sourceLocation,
                              check: (WrapperError) -> Bool,
                              of attempt: () async throws(WrapperError) -> Void) async throws {
        var failure: WrapperError?
        do {
            try await attempt()
        } catch {
            failure = error
        }
        let error = try #require(failure, "\(label): no error", sourceLocation: sourceLocation)
        #expect(check(error), "\(label): \(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "\(label): \(error)", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty,
                "\(label): product left behind", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty,
                "\(label): work files left behind", sourceLocation: sourceLocation)
        print("failure (\(label)): \(error)")
    }
}
