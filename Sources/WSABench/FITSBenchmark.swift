import ArgumentParser
import FITS
import Foundation

/// Reading every pixel of a Rice-compressed MEF: our FITS foundation against astropy.
struct FITSBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fits",
        abstract: "Read all pixels of a tile-compressed MEF with our FITS foundation and with astropy.",
        discussion: """
            Both readers decompress every image extension of the same file into memory, \
            in one run, alternating; the best of --repeat runs is reported for each.

            Example: wsabench fits .wsa/bench/20051012_v1/w20051012_00001_sf_st.fit
            """)

    @Argument(help: "A multi-extension FITS file with (compressed) image extensions.")
    var file: String

    @Option(help: "Runs of each reader; the best is reported.")
    var `repeat` = 3

    @Option(help: "Python with astropy.")
    var python = ProcessInfo.processInfo.environment["WSA_PYTHON"] ?? "/usr/bin/python3"

    func run() throws {
        var ours: [Double] = [], theirs: [Double] = []
        var pixels = 0
        for _ in 0..<max(1, `repeat`) {
            let start = DispatchTime.now().uptimeNanoseconds
            let f = try FITSFile.open(file)
            var count = 0
            var checksum = 0.0
            for hdu in try f.hdus() where hdu.holdsImage {
                try f.moveTo(hdu: hdu.index)
                let data = try f.readPixels(as: Float.self)
                count += data.count
                checksum += Double(data[data.count / 2])
            }
            try f.close()
            ours.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            pixels = count
            precondition(checksum.isFinite)
            theirs.append(try astropySeconds())
        }
        let bestOurs = ours.min()!, bestTheirs = theirs.min()!
        let mpix = Double(pixels) / 1e6
        print(String(format: "fits read  %@: %.1f Mpixel", (file as NSString).lastPathComponent, mpix))
        print(String(format: "  ours (cfitsio via FITS): %7.3f s  %7.1f Mpixel/s", bestOurs, mpix / bestOurs))
        print(String(format: "  astropy (CompImageHDU):  %7.3f s  %7.1f Mpixel/s", bestTheirs, mpix / bestTheirs))
        print(String(format: "  ratio ours/astropy time: %.2f", bestOurs / bestTheirs))
    }

    /// Seconds astropy takes to open the file and decompress every image extension to float32.
    func astropySeconds() throws -> Double {
        let script = """
            import sys, time, numpy as np
            from astropy.io import fits
            t = time.perf_counter()
            with fits.open(sys.argv[1], memmap=False) as h:
                for hdu in h:
                    if hdu.is_image and hdu.data is not None:
                        d = np.asarray(hdu.data, dtype=np.float32)
            print(time.perf_counter() - t)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, file]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let s = Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw ValidationError("astropy could not read \(file) (is python3-astropy installed for \(python)?)")
        }
        return s
    }
}
