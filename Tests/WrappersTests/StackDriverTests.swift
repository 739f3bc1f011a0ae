import FITS
import Foundation
import SimulatorKit
import Testing
import TestSupport
@testable import WrapperCore
@testable import AppDriver
@testable import Drivers

/// StackDriver (SWarp) on a simulated LAS night: 2 pointings × Y J H K × 4 exposures of 256²
/// detectors, checked against the simulator's truth.
@Suite(.serialized) struct StackDriverTests {
    /// Stars 8× denser than LAS's, for enough bright isolated stars on 256² detectors.
    static let night = SimulatedNights.make("wsa-stack-night-seed21-d8-v1", seed: 21, size: 256,
                                            starDensity: 8, pointings: 2, exposures: 4)
    static var delivery: URL { night.appendingPathComponent("20051012_v1") }

    /// Frames by (TILENUM, FILTER), each list in observation order.
    static func frames() throws -> [String: [StackInput]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: delivery.path)
            .filter { $0.hasSuffix("_sf_st.fit") }.sorted()
        var groups: [String: [StackInput]] = [:]
        for name in names {
            let url = delivery.appendingPathComponent(name)
            let file = try FITSFile.open(url.path)
            let tile = try file.requireInt("TILENUM")
            try file.close()
            let input = try StackInput(image: url)
            groups["\(tile)/\(input.filter)", default: []].append(input)
        }
        return groups
    }

    static func driver() -> AppDriver { AppDriver() }

    /// A fresh output directory and work directory.
    static func directories() throws -> (out: URL, work: URL) { try ProductTestSupport.directories("stack") }

    static func stack(_ inputs: [StackInput], _ name: String, in out: URL, work: URL) async throws -> StackProduct {
        try await StackDriver.stack(inputs, to: out.appendingPathComponent("\(name).fit"),
                                    confidence: out.appendingPathComponent("\(name)_conf.fit"),
                                    appDriver: driver(), workDirectory: work)
    }

    typealias Image = ProductTestSupport.Image

    /// Robust background noise per pixel. Resampling spreads each input pixel's noise over its
    /// neighbours by an amount that depends on the frame's sub-pixel phase on the output grid
    /// (Lanczos-3 at a half-pixel shift lowers the pixel σ by ~20%, at no shift not at all), so
    /// the pixel σ of two products is not comparable. Sums over `block`×`block` pixels keep
    /// that variance; differences of neighbouring blocks remove the sky's gradient. Returned:
    /// 1.4826 × MAD of (S₁ − S₂)/√2 over blocks at full depth (confidence 70…130), / `block`.
    static func noise(_ product: StackProduct, hdu: Int, block: Int = 4) throws -> Double {
        let image = try Image.read(product.image, hdu: hdu), conf = try Image.read(product.confidence, hdu: hdu)
        let (nx, ny) = (image.width / block, image.height / block)
        var sums = [Double?](repeating: nil, count: nx * ny)
        for by in 0..<ny {
            for bx in 0..<nx {
                var sum = 0.0, full = true
                for y in (by * block + 1)...(by * block + block) {
                    for x in (bx * block + 1)...(bx * block + block) {
                        if !(70...130).contains(conf.at(x, y)) { full = false }
                        sum += Double(image.at(x, y))
                    }
                }
                if full { sums[by * nx + bx] = sum }
            }
        }
        var differences: [Double] = []
        for by in 0..<ny {
            for bx in 0..<(nx - 1) {
                if let a = sums[by * nx + bx], let b = sums[by * nx + bx + 1] {
                    differences.append((a - b) / 2.0.squareRoot())
                }
            }
        }
        let median = differences.sorted()[differences.count / 2]
        return 1.4826 * differences.map { abs($0 - median) }.sorted()[differences.count / 2] / Double(block)
    }

    // MARK: - Noise

    /// Stacking N frames lowers the background noise to 1/√N of one frame. Both sides go
    /// through the same SWarp path (a "stack" of one frame: resampled, sky-subtracted, scaled),
    /// and the noise is measured on 4×4 block sums, which resampling's pixel-to-pixel
    /// correlation does not change (see ``noise(_:hdu:block:)``). The frames' noise differs
    /// (sky brightness varies), so the stack is also compared with the inverse-variance optimum.
    @Test func backgroundNoiseFallsAsOneOverRootN() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let inputs = try #require(Self.frames()["1/J"])
        #expect(inputs.count == 4)
        let all = try await Self.stack(inputs, "all", in: out, work: work)
        var singles: [StackProduct] = []
        for (i, input) in inputs.enumerated() {
            singles.append(try await Self.stack([input], "single\(i)", in: out, work: work))
        }
        var ratios: [Double] = []
        for hdu in 2...5 {
            let stacked = try Self.noise(all, hdu: hdu)
            let single = try singles.map { try Self.noise($0, hdu: hdu) }
            let typical = (single.map { $0 * $0 }.reduce(0, +) / Double(single.count)).squareRoot()
            let ratio = stacked / typical * Double(inputs.count).squareRoot()
            // SWarp weights by inverse variance: the optimum for these noise levels.
            let optimum = 1 / single.map { 1 / ($0 * $0) }.reduce(0, +).squareRoot()
            print("StackDriverTests noise HDU \(hdu): single \(single.map { String(format: "%.3f", $0) }) stacked \(String(format: "%.3f", stacked)) σ_N·√N/σ_1 = \(String(format: "%.3f", ratio)) σ_N/σ_optimal = \(String(format: "%.3f", stacked / optimum))")
            #expect(abs(ratio - 1) < 0.15, "HDU \(hdu): σ_N √N / σ_1 = \(ratio)")
            #expect(abs(stacked / optimum - 1) < 0.15, "HDU \(hdu): σ_N / σ_opt = \(stacked / optimum)")
            ratios.append(ratio)
            // The header's SKYNOISE is the pixel σ (lowered by resampling), a little below.
            let header = try Image.read(all.image, hdu: hdu).header
            let skyNoise = header.double("SKYNOISE") ?? 0
            #expect(skyNoise > 0.6 * stacked && skyNoise < 1.05 * stacked, "HDU \(hdu): SKYNOISE \(skyNoise)")
        }
        #expect(all.frameCount == 4 && all.extensions.count == 4)
    }

    // MARK: - Astrometry

    /// Gaussian-windowed centroid (SExtractor's XWIN) about a start position, background from an
    /// annulus; nil when it wanders off.
    static func windowedCentroid(_ image: Image, near start: PixelPosition, fwhm: Double) -> PixelPosition? {
        let sigma = fwhm / 2.3548
        let (x0, y0) = (Int(start.x.rounded()), Int(start.y.rounded()))
        var sky: [Float] = []
        for y in (y0 - 14)...(y0 + 14) {
            for x in (x0 - 14)...(x0 + 14) where (1...image.width).contains(x) && (1...image.height).contains(y) {
                let r2 = Double((x - x0) * (x - x0) + (y - y0) * (y - y0))
                if r2 >= 100 && r2 <= 196 { sky.append(image.at(x, y)) }
            }
        }
        guard sky.count > 50 else { return nil }
        let background = Double(sky.sorted()[sky.count / 2])
        var (cx, cy) = (start.x, start.y)
        for _ in 0..<100 {
            var sw = 0.0, sx = 0.0, sy = 0.0
            let radius = Int((4 * sigma).rounded(.up))
            let (ix, iy) = (Int(cx.rounded()), Int(cy.rounded()))
            for y in (iy - radius)...(iy + radius) {
                for x in (ix - radius)...(ix + radius) {
                    guard (1...image.width).contains(x), (1...image.height).contains(y) else { return nil }
                    let dx = Double(x) - cx, dy = Double(y) - cy
                    let w = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                    let v = Double(image.at(x, y)) - background
                    sw += w * v
                    sx += w * v * dx
                    sy += w * v * dy
                }
            }
            guard sw > 0 else { return nil }
            let (mx, my) = (2 * sx / sw, 2 * sy / sw)
            cx += mx
            cy += my
            guard abs(cx - start.x) < 3, abs(cy - start.y) < 3 else { return nil }
            if mx * mx + my * my < 1e-10 { break }
        }
        return PixelPosition(x: cx, y: cy)
    }

    /// Bright, unsaturated, isolated truth stars land in the stack where the truth puts them.
    @Test func starsLandAtTheirTruthPositions() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let inputs = try #require(Self.frames()["1/K"])
        let product = try await Self.stack(inputs, "k", in: out, work: work)
        let truth = try TruthFrames(night: Self.night)
        let reference = product.inputs[0]
        let key = "20051012_v1/" + reference.lastPathComponent
        var offsets: [Double] = []
        for (k, ext) in product.extensions.enumerated() {
            let hdu = ext.hdu
            let frameFile = try FITSFile.open(reference.path)
            try frameFile.moveTo(hdu: hdu)
            let frameWCS = try frameFile.wcs()
            try frameFile.close()
            let image = try Image.read(product.image, hdu: hdu)
            let conf = try Image.read(product.confidence, hdu: hdu)
            let fwhm = image.header.double("SEEING") ?? 2.5
            let camera = product.extensions[k].camNum ?? (k + 1)
            let here = truth.on(key, camera: camera)
            for i in here where truth.type[i] == "star" && (12.5...17.0).contains(truth.mag[i]) {
                let isolated = here.allSatisfy { j in
                    j == i || truth.mag[j] > truth.mag[i] + 4
                        || hypot(truth.x[j] - truth.x[i], truth.y[j] - truth.y[i]) > 15
                }
                guard isolated else { continue }
                let sky = try frameWCS.pixelToSky(PixelPosition(x: truth.x[i], y: truth.y[i]))
                let start = try image.wcs.skyToPixel(sky)
                guard start.x > 16, start.y > 16, start.x < Double(image.width) - 16,
                      start.y < Double(image.height) - 16,
                      conf.at(Int(start.x.rounded()), Int(start.y.rounded())) >= 70
                else { continue }
                guard let centre = Self.windowedCentroid(image, near: start, fwhm: fwhm) else {
                    Issue.record("HDU \(hdu): no centroid for truth star \(i) (mag \(truth.mag[i]))")
                    continue
                }
                let measured = try image.wcs.pixelToSky(centre)
                let dra = (measured.ra - sky.ra) * cos(sky.dec * .pi / 180) * 3600
                let ddec = (measured.dec - sky.dec) * 3600
                offsets.append(hypot(dra, ddec))
                #expect(hypot(dra, ddec) < 0.1, "HDU \(hdu): star of mag \(truth.mag[i]) off by \(dra)″, \(ddec)″")
            }
        }
        let sorted = offsets.sorted()
        print("StackDriverTests astrometry: \(offsets.count) stars, median offset \(String(format: "%.4f", sorted[sorted.count / 2]))″, max \(String(format: "%.4f", sorted.last ?? .nan))″")
        #expect(offsets.count >= 8, "too few bright isolated stars: \(offsets.count)")
    }

    // MARK: - Mosaic

    /// A mosaic of both pointings covers every corner of every detector that went in.
    @Test func mosaicCoversTheUnionOfItsInputs() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let groups = try Self.frames()
        let inputs = [try #require(groups["1/H"])[0], try #require(groups["2/H"])[0], try #require(groups["2/H"])[1]]
        let product = try await StackDriver.mosaic(
            inputs, to: out.appendingPathComponent("mosaic.fit"),
            confidence: out.appendingPathComponent("mosaic_conf.fit"), appDriver: Self.driver(), workDirectory: work)
        #expect(product.kind == .mosaic && product.extensions.count == 1 && product.frameCount == 3)
        let hdus = try FITSFile.open(product.image.path).hdus()
        #expect(hdus.count == 2)
        let mosaic = try Image.read(product.image, hdu: 2), conf = try Image.read(product.confidence, hdu: 2)
        #expect(mosaic.wcs.projection == "TAN")
        let scale = hypot(mosaic.header.double("CD1_1") ?? 0, mosaic.header.double("CD2_1") ?? 0) * 3600
        #expect(abs(scale - 0.4) < 1e-6)
        for input in inputs {
            let file = try FITSFile.open(input.image.path)
            for detector in input.detectors {
                try file.moveTo(hdu: detector.hdu)
                let wcs = try file.wcs()
                let (w, h) = (Double(detector.width), Double(detector.height))
                for corner in [(0.5, 0.5), (w + 0.5, 0.5), (0.5, h + 0.5), (w + 0.5, h + 0.5)] {
                    let p = try mosaic.wcs.skyToPixel(try wcs.pixelToSky(PixelPosition(x: corner.0, y: corner.1)))
                    #expect(p.x >= 0.5 && p.x <= Double(mosaic.width) + 0.5 && p.y >= 0.5
                                && p.y <= Double(mosaic.height) + 0.5,
                            "\(input.image.lastPathComponent) HDU \(detector.hdu) corner \(corner) at \(p) outside \(mosaic.width)×\(mosaic.height)")
                }
                // Inside each detector, the mosaic has data (somewhere in a 7×7 box: a detector's
                // dead columns and pixels stay dead in every frame).
                for inner in [(10.0, 10.0), (w / 2, h / 2), (w - 10, h - 10), (10, h - 10)] {
                    let p = try mosaic.wcs.skyToPixel(try wcs.pixelToSky(PixelPosition(x: inner.0, y: inner.1)))
                    let (px, py) = (Int(p.x.rounded()), Int(p.y.rounded()))
                    let box = (py - 3...py + 3).flatMap { y in (px - 3...px + 3).map { conf.at($0, y) } }
                    #expect(box.contains { $0 > 0 }, "\(input.image.lastPathComponent) HDU \(detector.hdu): no data at \(inner)")
                }
            }
            try file.close()
        }
        // Between the detectors (the focal plane's gaps) nothing: the mosaic is not padded data.
        let live = conf.pixels.filter { $0 > 0 }.count
        #expect(Double(live) < 0.95 * Double(conf.pixels.count))
    }

    // MARK: - Adding frames

    /// addToStack(existing, new) writes the same product as stacking everything at once.
    @Test func addingFramesEqualsStackingAllAtOnce() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let inputs = try #require(Self.frames()["2/Y"])
        let first = try await Self.stack(Array(inputs.prefix(2)), "first", in: out, work: work)
        #expect(first.frameCount == 2)
        let added = try await StackDriver.addToStack(
            existing: Array(inputs.prefix(2)), new: [inputs[3], inputs[2], inputs[0]],
            to: out.appendingPathComponent("added.fit.part"), confidence: out.appendingPathComponent("added_conf.fit.part"),
            appDriver: Self.driver(), workDirectory: work)
        let once = try await Self.stack(Array(inputs.reversed()), "once", in: out, work: work)
        #expect(added.frameCount == 4 && once.frameCount == 4)
        #expect(added.inputs == once.inputs)
        #expect(added.totalExposure == once.totalExposure && added.mjdObs == once.mjdObs && added.mjdEnd == once.mjdEnd)
        #expect(added.totalExposure == 4 * first.totalExposure / 2)
        var largest = 0.0
        for hdu in 2...5 {
            let a = try Image.read(added.image, hdu: hdu), b = try Image.read(once.image, hdu: hdu)
            #expect(a.width == b.width && a.height == b.height)
            guard a.pixels.count == b.pixels.count else { continue }
            let scale = Double(b.pixels.map { abs($0) }.max() ?? 1)
            for (x, y) in zip(a.pixels, b.pixels) { largest = max(largest, Double(abs(x - y)) / scale) }
            #expect(try Image.read(added.confidence, hdu: hdu).pixels == Image.read(once.confidence, hdu: hdu).pixels)
            for keyword in ["NFRAMES", "NICOMB", "TEXPTIME", "MJD-OBS", "MJD-END", "MAGZPT", "CRVAL1", "CRVAL2", "CRPIX1", "CD1_1"] {
                #expect(a.header[keyword] == b.header[keyword], "HDU \(hdu) \(keyword)")
            }
            // The headers name the final confidence map, not the .part file.
            #expect(a.header.string("CIR_CPM") == "added_conf.fit[\(hdu - 1)]")
        }
        print("StackDriverTests addToStack: largest relative difference \(largest)")
        #expect(largest <= 1e-6)
    }

    // MARK: - Files

    /// Every product and confidence map passes fitsverify and opens in astropy, with the
    /// keywords that say what went in.
    @Test func productsPassFitsverifyAndOpenInAstropy() async throws {
        let (out, work) = try Self.directories()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let groups = try Self.frames()
        let inputs = try #require(groups["1/Y"])
        let stack = try await Self.stack(inputs, "stack", in: out, work: work)
        let mosaic = try await StackDriver.mosaic(
            [inputs[0], try #require(groups["2/Y"])[0]], to: out.appendingPathComponent("mosaic.fit"),
            confidence: out.appendingPathComponent("mosaic_conf.fit"), appDriver: Self.driver(), workDirectory: work)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: out.path))
                    == ["stack.fit", "stack_conf.fit", "mosaic.fit", "mosaic_conf.fit"])
        for product in [stack, mosaic] {
            for url in [product.image, product.confidence] {
                let (clean, report) = try fitsverify(url.path)
                #expect(clean, "\(report)")
            }
        }
        #expect(stack.totalExposure == inputs.reduce(0) { $0 + $1.totalExposure })
        #expect(stack.exposures == 16 && stack.mjdObs == inputs[0].mjdObs && stack.mjdEnd == inputs[3].mjdEnd)
        #expect(stack.extensions.map(\.camNum) == [1, 2, 3, 4])
        #expect(stack.extensions.allSatisfy { $0.magZpt == inputs[0].detectors[$0.hdu - 2].magZpt })
        let output = try runPython("""
            import sys, warnings, json
            import numpy as np
            from astropy.io import fits
            from astropy.wcs import WCS
            warnings.simplefilter("error")
            out = {}
            for image, conf in zip(sys.argv[1::2], sys.argv[2::2]):
                with fits.open(image) as f, fits.open(conf) as c:
                    p = f[0].header
                    r = {"hdus": len(f), "prov": [p[k] for k in p if k.startswith("PROV")],
                         "nframes": p["NFRAMES"], "texptime": p["TEXPTIME"], "mjdend": p["MJD-END"],
                         "filter": p["FILTER"], "project": p["PROJECT"], "ext": []}
                    for h, ch in zip(f[1:], c[1:]):
                        w = WCS(h.header)
                        ra, dec = w.wcs_pix2world([[h.header["NAXIS1"] / 2, h.header["NAXIS2"] / 2]], 1)[0]
                        live = ch.data[ch.data > 0]
                        r["ext"].append({"dtype": str(h.data.dtype), "cdtype": str(ch.data.dtype),
                                         "shape": list(h.data.shape), "cshape": list(ch.data.shape),
                                         "ctype": w.wcs.ctype[0], "ra": float(ra), "dec": float(dec),
                                         "median": float(np.median(live)), "nicomb": h.header["NICOMB"],
                                         "nframes": h.header["NFRAMES"], "magzpt": h.header["MAGZPT"],
                                         "texptime": h.header["TEXPTIME"], "expt": h.header["EXP_TIME"],
                                         "mjdobs": h.header["MJD-OBS"], "mjdend": h.header["MJD-END"]})
                    out[image] = r
            print(json.dumps(out))
            """, [stack.image.path, stack.confidence.path, mosaic.image.path, mosaic.confidence.path])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        for (product, hdus) in [(stack, 5), (mosaic, 2)] {
            let r = try #require(parsed[product.image.path] as? [String: Any])
            #expect(r["hdus"] as? Int == hdus)
            #expect(r["prov"] as? [String] == product.inputs.map(\.lastPathComponent))
            #expect(r["nframes"] as? Int == product.frameCount)
            #expect((r["texptime"] as? Double).map { abs($0 - product.totalExposure) < 1e-9 } == true)
            #expect(r["filter"] as? String == "Y" && r["project"] as? String == "U/UKIDSS/LAS")
            let exts = try #require(r["ext"] as? [[String: Any]])
            #expect(exts.count == hdus - 1)
            for e in exts {
                #expect(e["dtype"] as? String == ">f4" || e["dtype"] as? String == "float32")
                #expect(e["cdtype"] as? String == ">i2" || e["cdtype"] as? String == "int16")
                #expect((e["shape"] as? [Int]) == (e["cshape"] as? [Int]))
                #expect(e["ctype"] as? String == "RA---TAN")
                #expect((e["median"] as? Double).map { abs($0 - 100) <= 1 } == true, "median confidence \(e["median"] ?? "?")")
                #expect(e["nframes"] as? Int == product.frameCount)
                #expect(e["expt"] as? Double == product.expTime)
                #expect((e["mjdend"] as? Double).map { abs($0 - product.mjdEnd) < 1e-9 } == true)
                #expect((e["ra"] as? Double).map { abs($0 - 180.25) < 0.2 } == true)
            }
        }
    }

    // MARK: - Failures

    /// SWarp failing, crashing or missing, or a corrupt input: one error line, nothing left in the
    /// destination or work directory.
    @Test func failuresLeaveNoProduct() async throws {
        let (out, work) = try Self.directories()
        let base = out.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: base) }
        let inputs = Array(try #require(Self.frames()["1/Y"]).prefix(2))
        let product = out.appendingPathComponent("p.fit"), confidence = out.appendingPathComponent("p_conf.fit")

        /// Stacking `frames` fails as `check` wants, leaving nothing behind.
        func expectFailure(_ label: String, _ driver: AppDriver, _ frames: [StackInput],
                           sourceLocation: SourceLocation = #_sourceLocation,
                           _ check: (WrapperError) -> Bool) async throws {
            try await ProductTestSupport.expectFailure(label, out: out, work: work, sourceLocation: sourceLocation,
                                                       check: check) { () async throws(WrapperError) in
                _ = try await StackDriver.stack(frames, to: product, confidence: confidence,
                                                appDriver: driver, workDirectory: work)
            }
        }

        let failing = try ProductTestSupport.failingSwarp(in: base)
        try await expectFailure("exit 3", AppDriver(toolPaths: ["swarp": failing]), inputs) {
            $0.code == .failed && $0.tool == "SWarp" && $0.message == ProductTestSupport.failingSwarpMessage
        }

        // The second detector's run crashes after the first succeeded.
        let crashing = try ProductTestSupport.crashingSwarp(fromRun: 2, in: base)
        try await expectFailure("crash", AppDriver(toolPaths: ["swarp": crashing]), inputs) {
            $0.code == .signalled && $0.message.hasPrefix("SWarp killed by SIGSEGV")
        }

        try await expectFailure("missing", AppDriver(toolPaths: ["swarp": "/nonexistent/SWarp"]), inputs) {
            $0.code == .toolMissing && $0.message.contains("apt-get install swarp")
        }

        // A frame cut short (its headers readable, its pixels not).
        var corrupt = inputs[1]
        corrupt.image = try ProductTestSupport.truncatedCopy(of: inputs[1].image, tenths: 6, in: base)
        try await expectFailure("corrupt input", Self.driver(), [inputs[0], corrupt]) {
            $0.code == .unreadable && $0.file == corrupt.image.path
        }

        // Reading a truncated file's headers fails with one line too (or succeeds up to the cut).
        do {
            _ = try StackInput(image: corrupt.image, confidence: inputs[1].confidence)
        } catch {
            #expect(error.code == .unreadable && !error.description.contains("\n"))
        }
    }

    /// The configuration files are in the resource bundle.
    @Test func configurationFilesAreBundled() throws {
        for name in ["stack.swarp", "mosaic.swarp"] {
            let url = try StackDriver.configurationDirectory().appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains("COMBINE_TYPE           WEIGHTED") && text.contains("WEIGHT_TYPE            MAP_WEIGHT"))
        }
        #expect(StackInput.mjd(isoDate: "2005-10-12T05:30:00.000").map { abs($0 - 53655.2291667) < 1e-6 } == true)
    }
}
