import FITS
import Foundation
import SimulatorKit
import SystemSupport
import Testing
import TestSupport
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// CompressHandler on simulated frames: JPEGs decoded by PIL, orientation checked against the
/// header WCS and the simulator's truth.
@Suite(.serialized) struct CompressHandlerTests {
    /// One LAS night (Y J H K, one pointing, 256² detectors); made once.
    static let night = SimulatedNights.make("wsa-compress-night-seed5-v1", seed: 5, size: 256)

    static func frames() throws -> [String] {
        let dir = night.appendingPathComponent("20051012_v1")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix("_sf_st.fit") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    /// What PIL sees in a JPEG, and the brightest value in the 3×3 box around each probe.
    struct Decoded: Decodable {
        var format: String
        var mode: String
        var width: Int
        var height: Int
        var std: Double
        var median: Double
        var saturated: Double
        var probes: [Double]
    }

    static func decode(_ jpegs: [(URL, [(column: Double, row: Double)])]) throws -> [Decoded] {
        let request = jpegs.map { ["path": $0.0.path, "probes": $0.1.map { [$0.column, $0.row] }] as [String: Any] }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("compress-probe-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: request).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let output = try runPython("""
            import json, sys
            import numpy as np
            from PIL import Image
            out = []
            for item in json.load(open(sys.argv[1])):
                im = Image.open(item["path"])
                im.load()
                a = np.asarray(im, dtype=float)
                probes = []
                for c, r in item["probes"]:
                    c, r = int(round(c)), int(round(r))
                    box = a[max(0, r - 1):r + 2, max(0, c - 1):c + 2]
                    probes.append(float(box.max()) if box.size else -1.0)
                out.append({"format": im.format, "mode": im.mode, "width": im.size[0], "height": im.size[1],
                            "std": float(a.std()), "median": float(np.median(a)),
                            "saturated": float((a >= 254).mean()), "probes": probes})
            print(json.dumps(out))
            """, [input.path])
        return try JSONDecoder().decode([Decoded].self, from: Data(output.utf8))
    }

    static func leftovers(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".part") }
    }

    @Test func everyImageExtensionBecomesADecodableJPEGAndThumbnail() throws {
        let out = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: out) }
        let frames = try Self.frames()
        #expect(frames.count == 4)
        for (n, path) in frames.enumerated() {
            var options = CompressOptions()
            options.thumbnailSize = 100
            options.stretch = Stretch.allCases[n % Stretch.allCases.count]
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let images = try CompressHandler.compressAll(path, jpegs: { hdu in
                (out.appendingPathComponent("\(name)_\(hdu).jpg"), out.appendingPathComponent("\(name)_\(hdu)_thumb.jpg"))
            }, options: options)
            #expect(images.map(\.hdu) == [2, 3, 4, 5])
            let file = try FITSFile.open(path)
            var expected: [(Int, Int)] = []
            for image in images {
                try file.moveTo(hdu: image.hdu)
                let dims = try file.imageShape().dimensions
                expected.append(image.orientation.transposed ? (dims[1], dims[0]) : (dims[0], dims[1]))
                #expect(image.northUp)
                #expect((image.width, image.height) == expected.last!)
            }
            let decoded = try Self.decode(images.flatMap { [($0.jpeg, []), ($0.thumbnail, [])] })
            for (i, image) in images.enumerated() {
                let (jpeg, thumbnail) = (decoded[2 * i], decoded[2 * i + 1])
                let label = "\(name) HDU \(image.hdu) \(options.stretch)"
                #expect(jpeg.format == "JPEG" && jpeg.mode == "L", "\(label)")
                #expect((jpeg.width, jpeg.height) == expected[i], "\(label)")
                #expect(jpeg.std > 10, "\(label): flat (σ \(jpeg.std))")
                #expect(jpeg.saturated < 0.2, "\(label): \(jpeg.saturated) saturated")
                #expect((20...235).contains(jpeg.median), "\(label): sky at \(jpeg.median)")
                #expect(thumbnail.format == "JPEG" && max(thumbnail.width, thumbnail.height) == 100, "\(label)")
                #expect(thumbnail.std > 3, "\(label): flat thumbnail")
                #expect(abs(thumbnail.median - jpeg.median) < 20, "\(label): thumbnail sky \(thumbnail.median)")
            }
        }
        #expect(try Self.leftovers(in: out).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).count == 4 * 4 * 2)
    }

    @Test func northIsUpAndEastLeftOnEveryDetector() throws {
        let path = try Self.frames()[0]
        let file = try FITSFile.open(path)
        var seen: Set<Orientation> = []
        for hdu in 2...5 {
            try file.moveTo(hdu: hdu)
            let dims = try file.imageShape().dimensions
            let (width, height) = (dims[0], dims[1])
            let wcs = try file.wcs()
            let orientation = try #require(Orientation.northUp(wcs: wcs, width: width, height: height))
            seen.insert(orientation)
            let (w, h) = orientation.displaySize(width: width, height: height)
            func sky(_ column: Int, _ row: Int) throws -> SkyPosition {
                let p = orientation.storedPixel(column: column, row: row, width: width, height: height)
                return try wcs.pixelToSky(PixelPosition(x: Double(p.x + 1), y: Double(p.y + 1)))
            }
            for (column, row) in [(w / 2, h / 2), (20, 20), (w - 21, h - 21), (20, h - 21)] {
                let here = try sky(column, row), up = try sky(column, row - 10), left = try sky(column - 10, row)
                let cosDec = cos(here.dec * .pi / 180)
                #expect(up.dec - here.dec > 0.9 * 10 * 0.4 / 3600, "HDU \(hdu) \(orientation): up is not north")
                #expect(abs(up.ra - here.ra) * cosDec < 0.1 * (up.dec - here.dec), "HDU \(hdu): up is not north")
                #expect((left.ra - here.ra) * cosDec > 0.9 * 10 * 0.4 / 3600, "HDU \(hdu) \(orientation): left is not east")
                #expect(abs(left.dec - here.dec) < 0.1 * (left.ra - here.ra) * cosDec, "HDU \(hdu): left is not east")
            }
        }
        #expect(seen.count == 4, "the four detectors are rotated 90° from each other: \(seen)")

        // The CD matrix of an unrotated camera (east left already) needs nothing; a mirrored one a flip.
        #expect(Orientation.northUp(xAxis: (east: 1, north: 0.01), yAxis: (east: 0, north: 1)) == Orientation(flipX: true))
        #expect(Orientation.northUp(xAxis: (east: -1, north: 0), yAxis: (east: 0, north: 1)) == .identity)
        #expect(Orientation.northUp(xAxis: (east: 0, north: 1), yAxis: (east: 1, north: 0)) == Orientation(transposed: true, flipY: true))
        #expect(Orientation.northUp(xAxis: (east: 1, north: 1), yAxis: (east: 1, north: 1)) == nil)
        #expect(Orientation.northUp(xAxis: (east: .nan, north: 1), yAxis: (east: 1, north: 0)) == nil)
    }

    @Test func theBrightestStarLandsWhereTheWCSPutsIt() throws {
        let out = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: out) }
        let path = try Self.frames()[0]
        let relative = String(path.dropFirst(Self.night.path.count + 1))
        let truth = try String(contentsOf: Self.night.appendingPathComponent("truth/frames.csv"), encoding: .utf8)
        let header = truth.prefix { $0 != "\n" }.split(separator: ",").map(String.init)
        let (fileColumn, extColumn) = (header.firstIndex(of: "file")!, header.firstIndex(of: "extension")!)
        let (xColumn, yColumn, magColumn) = (header.firstIndex(of: "x")!, header.firstIndex(of: "y")!, header.firstIndex(of: "mag")!)
        let rows = truth.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
            .filter { $0[fileColumn] == relative }

        let images = try CompressHandler.compressAll(path, jpegs: { hdu in
            (out.appendingPathComponent("\(hdu).jpg"), out.appendingPathComponent("\(hdu)_t.jpg"))
        })
        var requests: [(URL, [(column: Double, row: Double)])] = []
        typealias Star = (x: Double, y: Double, mag: Double)
        for image in images {
            let stars: [Star] = rows.filter { Int($0[extColumn]) == image.hdu - 1 }.compactMap { row -> Star? in
                guard let x = Double(row[xColumn]), let y = Double(row[yColumn]), let mag = Double(row[magColumn]),
                      x > 8, y > 8, x < 248, y < 248 else { return nil }
                return (x, y, mag)
            }
            let star = try #require(stars.min { $0.mag < $1.mag }, "no truth star on HDU \(image.hdu)")
            func position(_ o: Orientation) -> (column: Double, row: Double) {
                o.jpegPosition(x: star.x, y: star.y, width: 256, height: 256)
            }
            let right = position(image.orientation)
            let wrong = Orientation.all.map(position).filter { hypot($0.column - right.column, $0.row - right.row) > 12 }
            requests.append((image.jpeg, [right] + wrong))
        }
        for (image, decoded) in zip(images, try Self.decode(requests)) {
            let right = decoded.probes[0], wrong = decoded.probes.dropFirst()
            #expect(right >= 250, "HDU \(image.hdu): the brightest star is not where the WCS puts it (\(right))")
            #expect(wrong.count >= 3)
            #expect(wrong.filter { $0 >= 250 }.count <= 1, "HDU \(image.hdu): bright at mirrored places too: \(wrong)")
        }
    }

    @Test func aTruncatedFileGivesOneErrorAndLeavesNothing() throws {
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Self.frames()[0]
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let cut = dir.appendingPathComponent("w20051012_00001_sf_st_cut.fit")
        try data.prefix(data.count * 6 / 10).write(to: cut)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let jpegs = { @Sendable (hdu: Int) in
            (out.appendingPathComponent("\(hdu).jpg"), out.appendingPathComponent("\(hdu)_t.jpg"))
        }

        #expect {
            _ = try CompressHandler.compressAll(cut.path, jpegs: jpegs, jobs: 2)
        } throws: { error in
            guard let error = error as? WrapperError else { return false }
            return error.code == .unreadable && error.file == cut.path && error.description.hasPrefix(cut.path)
                && !error.description.contains("\n") && error.problem.hasPrefix("HDU ")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)

        var failures = 0
        for hdu in 2...5 {
            do {
                _ = try CompressHandler.compress(cut.path, hdu: hdu, to: jpegs(hdu).0, thumbnail: jpegs(hdu).1)
            } catch {
                failures += 1
                #expect(error.description.hasPrefix(cut.path + ": HDU \(hdu): "), "\(error)")
                #expect(!FileManager.default.fileExists(atPath: jpegs(hdu).0.path))
                #expect(!FileManager.default.fileExists(atPath: jpegs(hdu).1.path))
            }
        }
        #expect(failures >= 1)
        #expect(try Self.leftovers(in: out).isEmpty)

        let garbage = dir.appendingPathComponent("garbage.fit")
        try Data(repeating: 0x41, count: 5760).write(to: garbage)
        for bad in [garbage.path, dir.appendingPathComponent("missing.fit").path] {
            #expect { _ = try CompressHandler.compressAll(bad, jpegs: jpegs) } throws: {
                ($0 as? WrapperError)?.code == .unreadable && ($0 as? WrapperError)?.file == bad
            }
        }
        #expect { _ = try CompressHandler.compress(source, hdu: 1, to: jpegs(1).0, thumbnail: jpegs(1).1) } throws: {
            ($0 as? WrapperError)?.code == .wrongContents
        }
        #expect { _ = try CompressHandler.compress(source, hdu: 9, to: jpegs(9).0, thumbnail: jpegs(9).1) } throws: {
            ($0 as? WrapperError)?.code == .unreadable
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).allSatisfy { !$0.hasSuffix(".part") })
    }

    @Test func bothCoresGiveTheSameBytesAsOne() throws {
        #expect(CompressHandler.cfitsioIsReentrant, "Debian's cfitsio is built reentrant")
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.frames()[1]
        var outputs: [[Data]] = []
        for jobs in [1, 2] {
            let images = try CompressHandler.compressAll(path, jpegs: { hdu in
                (dir.appendingPathComponent("\(jobs)_\(hdu).jpg"), dir.appendingPathComponent("\(jobs)_\(hdu)_t.jpg"))
            }, jobs: jobs)
            outputs.append(try images.flatMap { [try Data(contentsOf: $0.jpeg), try Data(contentsOf: $0.thumbnail)] })
        }
        #expect(outputs[0].count == 8)
        #expect(outputs[0] == outputs[1])
        #expect(try Self.leftovers(in: dir).isEmpty)
    }

    /// Row tiles are read in strips after the sample's rows; other tilings and plain images are
    /// read whole. Every way gives the same JPEG, equal to the levels made from the whole image.
    @Test func everyTilingGivesTheSameJPEG() throws {
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (width, height) = (300, 200)
        var random = SystemSupport.SplitMix64(seed: 11)
        var pixels = (0..<(width * height)).map { _ in Int32.random(in: 900...1100, using: &random) }
        for i in stride(from: 17, to: pixels.count, by: 997) { pixels[i] = 40_000 }  // stars
        let tilings: [(String, ImageCompression)] = [
            ("rows", .rice()), ("blocks", .rice(tile: [64, 16])), ("gzip rows", .gzip()), ("plain", .none),
        ]
        var jpegs: [String: Data] = [:]
        for (name, compression) in tilings {
            let path = dir.appendingPathComponent("\(name).fits").path
            let file = try FITSFile.create(path)
            try file.createImage(bitpix: .int32, dimensions: [])
            try file.createImage(bitpix: .int32, dimensions: [width, height], compression: compression)
            try file.writePixels(pixels)
            try file.close()
            let images = try CompressHandler.compressAll(path, jpegs: { hdu in
                (dir.appendingPathComponent("\(name)-\(hdu).jpg"), dir.appendingPathComponent("\(name)-\(hdu)_t.jpg"))
            })
            jpegs[name] = try Data(contentsOf: try #require(images.first).jpeg)
        }
        let whole = ImageStretch.greyLevels(pixels.map(Float.init), width: width, height: height, stretch: .zscale,
                                            orientation: .identity)
        let expected = Data(try JPEGWriter.encode(grey: whole, width: width, height: height, quality: CompressOptions().quality))
        for (name, _) in tilings { #expect(jpegs[name] == expected, "\(name)") }
    }

    /// One thread reuses its buffers from HDU to HDU: a smaller extension after a larger one, in
    /// either reading path, gives what it gives alone.
    @Test func extensionsOfDifferentSizesShareAThreadsBuffers() throws {
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        var random = SystemSupport.SplitMix64(seed: 12)
        let shapes: [(Int, Int, ImageCompression)] = [
            (200, 150, .rice(tile: [50, 10])), (120, 90, .rice(tile: [30, 10])), (200, 150, .rice()), (64, 40, .rice()),
        ]
        let path = dir.appendingPathComponent("mixed.fits").path
        let file = try FITSFile.create(path)
        try file.createImage(bitpix: .int32, dimensions: [])
        for (width, height, compression) in shapes {
            try file.createImage(bitpix: .int32, dimensions: [width, height], compression: compression)
            try file.writePixels((0..<(width * height)).map { _ in Int32.random(in: 500...700, using: &random) })
        }
        try file.close()
        let together = try CompressHandler.compressAll(path, jpegs: { hdu in
            (dir.appendingPathComponent("all-\(hdu).jpg"), dir.appendingPathComponent("all-\(hdu)_t.jpg"))
        }, jobs: 1)
        #expect(together.map(\.hdu) == [2, 3, 4, 5])
        for image in together {
            let alone = try CompressHandler.compress(path, hdu: image.hdu, to: dir.appendingPathComponent("one-\(image.hdu).jpg"),
                                                     thumbnail: dir.appendingPathComponent("one-\(image.hdu)_t.jpg"))
            #expect(try Data(contentsOf: image.jpeg) == Data(contentsOf: alone.jpeg), "HDU \(image.hdu)")
            #expect(try Data(contentsOf: image.thumbnail) == Data(contentsOf: alone.thumbnail), "HDU \(image.hdu)")
        }
    }

    @Test func everyOrientationShowsTheStoredPixelItNames() {
        let (width, height) = (5, 3)
        let ramp = (0..<(width * height)).map { Float($0 * $0) }
        let asStored = ImageStretch.greyLevels(ramp, width: width, height: height, stretch: .zscale, orientation: .identity)
        #expect(Set(asStored).count > 5, "the ramp should give distinct levels: \(asStored)")
        for orientation in Orientation.all {
            let shown = ImageStretch.greyLevels(ramp, width: width, height: height, stretch: .zscale, orientation: orientation)
            let (w, h) = orientation.displaySize(width: width, height: height)
            #expect(shown.count == w * h)
            for row in 0..<h {
                for column in 0..<w {
                    let (x, y) = orientation.storedPixel(column: column, row: row, width: width, height: height)
                    #expect(shown[row * w + column] == asStored[(height - 1 - y) * width + x], "\(orientation) (\(column), \(row))")
                }
            }
        }
    }

    @Test func flatAndNullImagesShowMidGrey() throws {
        let null: Float = -0.9999995e9
        #expect(ImageStretch.greyLevels([Float](repeating: 7, count: 100), width: 10, height: 10, stretch: .zscale,
                                        orientation: .identity).allSatisfy { $0 == 128 })
        // Stored rows [3, NaN, null] and [3, ∞, 3]: the display shows the second row on top.
        let mixed: [Float] = [3, .nan, null, 3, .infinity, 3]
        for stretch in Stretch.allCases {
            #expect(ImageStretch.greyLevels(mixed, width: 3, height: 2, stretch: stretch, orientation: .identity)
                    == [128, 0, 128, 128, 0, 0])
            #expect(ImageStretch.greyLevels([null, .nan], width: 2, height: 1, stretch: stretch, orientation: .identity)
                    == [0, 0])
        }
        // zscale of pure noise spans about the noise, not the outliers.
        var random = SystemSupport.SplitMix64(seed: 3)
        var noise = (0..<40_000).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &random), v = Double.random(in: 0..<1, using: &random)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v)) * 10 + 1000
        }
        noise[17] = 60_000
        let limits = ImageStretch.zscale(sortedSample: ImageStretch.sample(noise, width: 200, height: 200))
        let (low, high) = try #require(limits)
        #expect(low > 940 && low < 1000 && high > 1000 && high < 1060, "\(low) \(high)")

        #expect(throws: JPEGWriter.Failure.self) { try JPEGWriter.encode(grey: [], width: 0, height: 5, quality: 90) }
        #expect(throws: JPEGWriter.Failure.self) { try JPEGWriter.encode(grey: [1, 2], width: 2, height: 2, quality: 90) }
        #expect(throws: JPEGWriter.Failure.self) { try JPEGWriter.encode(grey: [1], width: 1, height: 1, quality: 0) }
        #expect(Thumbnail.boxAverage([0, 1, 2, 3, 4, 6], width: 3, height: 2, to: (width: 1, height: 1)) == [3])
        #expect(Thumbnail.boxAverage([0, 0, 3, 3, 6, 6], width: 6, height: 1, to: (width: 4, height: 1)) == [0, 2, 4, 6])

        // A flat image without WCS, end to end: mid-grey, kept as stored.
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let flat = dir.appendingPathComponent("flat.fits").path
        let file = try FITSFile.create(flat)
        try file.createImage(bitpix: .int32, dimensions: [])
        try file.createImage(bitpix: .int32, dimensions: [40, 30], compression: .rice())
        try file.writePixels([Int32](repeating: 1234, count: 1200))
        try file.close()
        let images = try CompressHandler.compressAll(flat, jpegs: { hdu in
            (dir.appendingPathComponent("\(hdu).jpg"), dir.appendingPathComponent("\(hdu)_t.jpg"))
        })
        #expect(images.count == 1)
        #expect(images.first?.northUp == false && images.first?.orientation == .identity)
        #expect(images.first.map { ($0.width, $0.height) } ?? (0, 0) == (40, 30))
        let decoded = try Self.decode([(images[0].jpeg, []), (images[0].thumbnail, [])])
        #expect(decoded[0].std < 1 && abs(decoded[0].median - 128) <= 1, "\(decoded[0])")
        #expect((decoded[1].width, decoded[1].height) == (40, 30))
    }
}

extension CompressHandlerTests {
    @Test func zscaleAgreesWithAstropy() throws {
        let dir = try TestEnvironment.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try FITSFile.open(try Self.frames()[2])
        try file.moveTo(hdu: 3)
        let dims = try file.imageShape().dimensions
        let sample = ImageStretch.sample(try file.readPixels(as: Float.self), width: dims[0], height: dims[1])
        let ours = try #require(ImageStretch.zscale(sortedSample: sample))
        let input = dir.appendingPathComponent("sample.f32")
        try sample.withUnsafeBytes { try Data($0).write(to: input) }
        let output = try runPython("""
            import sys
            import numpy as np
            from astropy.visualization import ZScaleInterval
            values = np.fromfile(sys.argv[1], dtype=np.float32)
            low, high = ZScaleInterval(n_samples=values.size).get_limits(values)
            print(low, high)
            """, [input.path])
        let theirs = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(theirs.count == 2, "\(output)")
        let range = theirs[1] - theirs[0]
        #expect(range > 0)
        #expect(abs(Double(ours.low) - theirs[0]) < 0.001 * range, "ours \(ours), astropy \(theirs)")
        #expect(abs(Double(ours.high) - theirs[1]) < 0.001 * range, "ours \(ours), astropy \(theirs)")
    }
}
