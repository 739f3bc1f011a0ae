import FITS
public import Foundation
public import SimulatorKit

/// Small simulated nights for the tests: one night (20051012), one pointing, one exposure
/// (unless asked for more); each made once per machine in the temporary directory under its own
/// name and reused.
public enum SimulatedNights {
    /// The directory of the night `name` (made if it is not there yet): `<name>/20051012_v1`,
    /// `truth/`, `external/`.
    public static func make(_ name: String, seed: UInt64, size: Int, programmes: [Programme] = [.LAS],
                            corrupt: Int = 0, starDensity: Double = 1, galaxyDensity: Double = 1,
                            pointings: Int = 1, exposures: Int = 1, nights: [String] = ["20051012"]) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(nights.last!)_v1/COMPLETE").path) {
            var config = SimulationConfig(outputDirectory: dir)
            config.seed = seed
            config.detectorSize = size
            config.programmes = programmes
            config.nights = nights.map { Night($0)! }
            config.pointings = pointings
            config.exposures = exposures
            config.corrupt = corrupt
            config.starDensity = starDensity
            config.galaxyDensity = galaxyDensity
            config.overwrite = true
            config.jobs = 1  // leave a core for the suites running beside this one
            _ = try! Simulator(config: config).run()
        }
        return dir
    }
}

/// `truth/frames.fits` of a simulated night: every source drawn on every detector.
public struct TruthFrames: Sendable {
    public var file: [String]
    public var camera: [Int]
    public var x: [Double]
    public var y: [Double]
    public var mag: [Double]
    public var type: [String]

    public init(night: URL) throws {
        let truth = try FITSFile.open(night.appendingPathComponent("truth/frames.fits").path)
        defer { try? truth.close() }
        try truth.moveTo(hdu: 2)
        file = try truth.readStringColumn(try truth.columnIndex("file"))
        camera = try truth.readColumn("extension", as: Int32.self).map(Int.init)
        x = try truth.readColumn("x", as: Double.self)
        y = try truth.readColumn("y", as: Double.self)
        mag = try truth.readColumn("mag", as: Double.self)
        type = try truth.readStringColumn(try truth.columnIndex("type"))
    }

    /// Indices of the sources drawn on `camera` of the frame `file` (`night/name`).
    public func on(_ file: String, camera: Int) -> [Int] {
        self.file.indices.filter { self.file[$0] == file && self.camera[$0] == camera }
    }
}
